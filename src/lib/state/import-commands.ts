// Turns a clean import plan into CRDT commands (one bulk step), after checking that no cell changed since
// the preview was made. Pure presentation logic (no Svelte, no storage).
import type { Command } from '../crdt/commands';
import type { ImportPatch } from '../domain/interchange/grade-import';

export interface CommitCheck {
  commands: Command[];
  /** Cells another grader changed after the preview: the import must be planned again. */
  stale: string[];
}

export function importCommands(patches: readonly ImportPatch[], current: (item: string, user: string) => { final: number | null; feedback: string | null }): CommitCheck {
  const commands: Command[] = [];
  const stale: string[] = [];
  for (const p of patches) {
    const now = current(p.item, p.user);
    if (p.expected.final !== undefined && (p.expected.final ?? null) !== now.final) stale.push(`${p.item} / ${p.user}`);
    if (p.expected.feedback !== undefined && (p.expected.feedback ?? null) !== (now.feedback ?? null)) stale.push(`${p.item} / ${p.user} (feedback)`);
    const { patch } = p;
    if (patch.overridden !== undefined) commands.push({ type: 'overrideGrade', item: p.item, user: p.user, value: patch.overridden });
    if (patch.final !== undefined || patch.raw !== undefined) {
      const cmd: Command = { type: 'setGrade', item: p.item, user: p.user };
      if (patch.raw !== undefined) cmd.raw = patch.raw;
      if (patch.final !== undefined) cmd.final = patch.final;
      commands.push(cmd);
    }
    if (patch.feedback !== undefined) commands.push({ type: 'setFeedback', item: p.item, user: p.user, feedback: patch.feedback });
  }
  return { commands, stale };
}
