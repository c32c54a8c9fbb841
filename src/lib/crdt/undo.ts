// Per-actor undo/redo over the command log: each step applies the inverse command as a NEW change.
// Never touches another person's change: an inverse skips every field someone else has changed since.
import type * as Y from 'yjs';
import { applyCommand, type Command, type CommandContext, type CommandResult } from './commands.ts';

/**
 * Undo and redo of one actor's own commands on one course document. A bulk command is one step. Undo writes
 * through the multi-value register like any edit, so conflicts and history stay right; fields changed by
 * someone else since (or now in conflict) are left as they are and reported in `skipped`.
 */
export class CourseUndoManager {
  private readonly undoStack: Command[] = [];
  private readonly redoStack: Command[] = [];

  constructor(
    private readonly doc: Y.Doc,
    private readonly ctx: CommandContext,
    /** Steps kept; older ones are forgotten (each is small, but a session can be long). */
    private readonly limit = 500,
  ) {}

  /** Applies a command as this actor and records its inverse for undo (clears redo). */
  run(cmd: Command, src?: string): CommandResult {
    const r = applyCommand(this.doc, cmd, src ? { ...this.ctx, src } : this.ctx);
    if (r.ok && r.inverse) {
      this.undoStack.push(r.inverse);
      if (this.undoStack.length > this.limit) this.undoStack.shift();
      this.redoStack.length = 0;
    }
    return r;
  }

  get canUndo(): boolean {
    return this.undoStack.length > 0;
  }

  get canRedo(): boolean {
    return this.redoStack.length > 0;
  }

  /** Undoes this actor's latest step; null when there is nothing to undo. */
  undo(): CommandResult | null {
    return this.step(this.undoStack, this.redoStack, 'undo');
  }

  redo(): CommandResult | null {
    return this.step(this.redoStack, this.undoStack, 'redo');
  }

  private step(from: Command[], to: Command[], src: string): CommandResult | null {
    const cmd = from.pop();
    if (!cmd) return null;
    const r = applyCommand(this.doc, cmd, { ...this.ctx, src });
    if (r.ok && r.inverse) to.push(r.inverse);
    else if (!r.ok) from.push(cmd);
    return r;
  }
}
