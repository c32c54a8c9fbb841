// Chrome's own account of the frames it showed, read from a trace: each begin-frame has one or more
// PipelineReporter events (main-thread and compositor parts) whose state says whether the frame was presented
// with everything, presented without the main thread's update, or dropped; and whether it was drawn with parts
// missing (checkerboarding). This is what DevTools' frames track shows, and what a person scrolling sees.

interface TraceEvent {
  name: string;
  ph: string;
  args?: { frame_reporter?: { frame_sequence: number; state: string; affects_smoothness?: boolean; checkerboarded_needs_raster?: boolean; checkerboarded_needs_record?: boolean; has_missing_content?: boolean } };
}

export interface FrameAccount {
  /** Begin-frames that produced (or should have produced) a frame. */
  frames: number;
  /** Frames Chrome counts as dropped for smoothness. */
  dropped: number;
  /** Frames drawn with content missing (not yet recorded or rasterised). */
  checkerboarded: number;
}

/** The frames of a trace taken with the `cc` and `benchmark` categories. */
export function frameAccount(traceJson: string): FrameAccount {
  const events = (JSON.parse(traceJson) as { traceEvents: TraceEvent[] }).traceEvents;
  const bySequence = new Map<number, { dropped: boolean; shown: boolean; checker: boolean }>();
  for (const e of events) {
    const fr = e.name === 'PipelineReporter' && e.ph === 'b' ? e.args?.frame_reporter : undefined;
    if (!fr || fr.state === 'STATE_NO_UPDATE_DESIRED') continue;
    const f = bySequence.get(fr.frame_sequence) ?? { dropped: false, shown: false, checker: false };
    if (fr.state === 'STATE_DROPPED' && fr.affects_smoothness) f.dropped = true;
    if (fr.state.startsWith('STATE_PRESENTED')) f.shown = true;
    if (fr.checkerboarded_needs_raster || fr.checkerboarded_needs_record || fr.has_missing_content) f.checker = true;
    bySequence.set(fr.frame_sequence, f);
  }
  const all = [...bySequence.values()];
  return { frames: all.length, dropped: all.filter((f) => f.dropped).length, checkerboarded: all.filter((f) => f.checker).length };
}
