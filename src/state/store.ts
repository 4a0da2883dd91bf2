import { createStore, useStore } from 'zustand';
import type { StateCreator } from 'zustand';
import type { ErrorRecord } from '../core/errors.ts';
import type { ScanProgress } from '../core/scan/progress.ts';
import type { MatrixRecord } from '../core/scan/record.ts';
import { defaultPercent } from '../core/selection/phases.ts';
import type { IgnoredFile } from './group-files.ts';
import { architectureOf, settleMembership, type Architecture } from './plan-membership.ts';
import { createPlansViewSlice, type PlansViewSlice } from './plans-view.ts';
import type { CheckpointState, DeltaState, EngineState, PlanStep, RunCheckpointState, RunState, RunViewState, ViewState } from './types.ts';

interface CheckpointsSlice {
  checkpoints: Record<string, CheckpointState>;
  order: string[];
  addCheckpoint(c: CheckpointState): void;
  updateCheckpoint(id: string, patch: Partial<CheckpointState>): void;
  addRecords(id: string, records: MatrixRecord[]): void;
  addErrors(id: string, errors: ErrorRecord[]): void;
  setProgress(id: string, progress: ScanProgress): void;
  /** close a tab: the checkpoint leaves the page, kept in `closed` until another closes (undo) */
  removeCheckpoint(id: string): void;
  /** the last checkpoint closed, with where it stood: Undo puts it back */
  closed: ClosedCheckpoint | null;
  restoreClosed(): void;
  clearClosed(): void;
  /** dropped files that opened nothing, with why (a notice lists them until dismissed) */
  ignored: IgnoredFile[];
  setIgnored(ignored: IgnoredFile[]): void;
  /** replace everything with a saved session */
  loadSession(session: { checkpoints: CheckpointState[]; plan: PlanStep[]; view: ViewState; delta?: DeltaState | null }): void;
}

export interface ClosedCheckpoint {
  checkpoint: CheckpointState;
  orderIndex: number;
  planIndex: number;
  planStep: PlanStep | null;
}

interface PlanSlice {
  /** the phase plan: checkpoints in training order, each with its percent */
  plan: PlanStep[];
  setPlanPercent(checkpointId: string, percent: number): void;
  setPlanIncluded(checkpointId: string, included: boolean): void;
  /** move a step up (−1) or down (+1), or to an index */
  movePlanStep(checkpointId: string, to: number): void;
  setPlan(plan: PlanStep[]): void;
  /** each checkpoint's architecture once its headers (or its Spectrum JSON) are read: who joins the plan by default */
  architectures: Record<string, Architecture>;
  /** steps included or left out by hand: their membership is never settled by architecture again */
  planChosen: string[];
  /** a checkpoint's architecture is known: steps nobody chose join the plan when they match its first step */
  setArchitecture(checkpointId: string, architecture: Architecture): void;
}

interface ViewSlice {
  view: ViewState;
  setView(patch: Partial<ViewState>): void;
}

interface EngineSlice {
  engine: EngineState;
  setEngine(patch: Partial<EngineState>): void;
}

/** The IndexedDB scan cache as the page shows it: what it holds, and why it does not work if it does not. */
export interface CacheState {
  /** cached checkpoints and the bytes the page's storage uses (null: not measured yet) */
  usage: { scans: number; bytes: number | null } | null;
  /** the last failure to read or write the cache, in one line (the scan goes on without it) */
  problem: string | null;
}

interface CacheSlice {
  cache: CacheState;
  setCache(patch: Partial<CacheState>): void;
}

interface DeltaSlice {
  delta: DeltaState;
  setDelta(patch: Partial<DeltaState>): void;
  addDeltaRecords(records: MatrixRecord[]): void;
  addDeltaErrors(errors: ErrorRecord[]): void;
}

/** The Run page: one training run, its checkpoints' records (never their weights) and how they are shown. */
interface RunSlice {
  run: RunState | null;
  setRun(run: RunState | null): void;
  updateRunCheckpoint(key: string, patch: Partial<RunCheckpointState>): void;
  addRunRecords(key: string, records: MatrixRecord[]): void;
  addRunErrors(key: string, errors: ErrorRecord[]): void;
  /** move a checkpoint to an index: the run is then in the order given */
  moveRunCheckpoint(key: string, to: number): void;
  setRunView(patch: Partial<RunViewState>): void;
}

export type AppState = CheckpointsSlice & PlanSlice & ViewSlice & EngineSlice & CacheSlice & DeltaSlice & RunSlice & PlansViewSlice;

const createCheckpointsSlice: StateCreator<AppState, [], [], CheckpointsSlice> = (set) => {
  const patch = (id: string, f: (c: CheckpointState) => Partial<CheckpointState>) =>
    set((s) =>
      Object.hasOwn(s.checkpoints, id) ? { checkpoints: { ...s.checkpoints, [id]: { ...s.checkpoints[id], ...f(s.checkpoints[id]) } } } : s,
    );
  return {
    checkpoints: {},
    order: [],
    addCheckpoint: (c) =>
      set((s) => ({
        checkpoints: { ...s.checkpoints, [c.id]: c },
        order: s.order.includes(c.id) ? s.order : [...s.order, c.id],
        plan: s.plan.some((p) => p.checkpointId === c.id)
          ? s.plan
          : [...s.plan, { checkpointId: c.id, percent: defaultPercent(s.plan.length), included: true }],
      })),
    updateCheckpoint: (id, p) => patch(id, () => p),
    addRecords: (id, records) =>
      patch(id, (c) => {
        const next = { ...c.records };
        for (const r of records) next[r.name] = r;
        return { records: next };
      }),
    addErrors: (id, errors) => patch(id, (c) => ({ errors: [...c.errors, ...errors] })),
    setProgress: (id, progress) => patch(id, () => ({ progress })),
    loadSession: ({ checkpoints, plan, view, delta }) =>
      // ΔW results refer to the checkpoints being replaced: the session's own ΔW result, if it has one, takes their place
      set((s) => ({
        checkpoints: Object.fromEntries(checkpoints.map((c) => [c.id, c])),
        order: checkpoints.map((c) => c.id),
        plan,
        view,
        // a session's plan is as it was saved: nothing in it is settled again
        architectures: Object.fromEntries(
          checkpoints.map((c) => [c.id, architectureOf(Object.values(c.records), c.origin === 'import' ? 'spectrum' : 'weights')]),
        ),
        planChosen: plan.map((p) => p.checkpointId),
        delta: delta ?? { ...EMPTY_DELTA, metric: s.delta.metric },
        closed: null,
      })),
    removeCheckpoint: (id) =>
      set((s) => {
        const { [id]: _gone, ...rest } = s.checkpoints;
        const order = s.order.filter((x) => x !== id);
        // the tab beside the closed one takes its place
        const next = order[Math.min(s.order.indexOf(id), order.length - 1)] ?? null;
        const inDelta = s.delta.fromId === id || s.delta.toId === id;
        const planIndex = s.plan.findIndex((p) => p.checkpointId === id);
        return {
          checkpoints: rest,
          order,
          plan: s.plan.filter((p) => p.checkpointId !== id),
          view: s.view.activeId === id ? { ...s.view, activeId: next, selected: null, focused: null } : s.view,
          delta: inDelta ? { ...s.delta, fromId: null, toId: null } : s.delta,
          closed: Object.hasOwn(s.checkpoints, id)
            ? { checkpoint: s.checkpoints[id], orderIndex: s.order.indexOf(id), planIndex, planStep: s.plan[planIndex] ?? null }
            : s.closed,
        };
      }),
    closed: null,
    restoreClosed: () =>
      set((s) => {
        if (!s.closed || Object.hasOwn(s.checkpoints, s.closed.checkpoint.id)) return { closed: null };
        const { checkpoint, orderIndex, planIndex, planStep } = s.closed;
        const insert = <T>(list: T[], at: number, item: T) => [...list.slice(0, at), item, ...list.slice(at)];
        return {
          checkpoints: { ...s.checkpoints, [checkpoint.id]: checkpoint },
          order: insert(s.order, Math.min(orderIndex, s.order.length), checkpoint.id),
          plan: planStep ? insert(s.plan, Math.min(planIndex, s.plan.length), planStep) : s.plan,
          view: { ...s.view, activeId: checkpoint.id, selected: null, focused: null },
          closed: null,
        };
      }),
    clearClosed: () => set({ closed: null }),
    ignored: [],
    setIgnored: (ignored) => set({ ignored }),
  };
};

const createPlanSlice: StateCreator<AppState, [], [], PlanSlice> = (set) => {
  const update = (id: string, patch: Partial<PlanStep>) =>
    set((s) => ({ plan: s.plan.map((p) => (p.checkpointId === id ? { ...p, ...patch } : p)) }));
  return {
    plan: [],
    setPlanPercent: (id, percent) => update(id, { percent }),
    setPlanIncluded: (id, included) =>
      set((s) => ({
        plan: s.plan.map((p) => (p.checkpointId === id ? { ...p, included } : p)),
        planChosen: s.planChosen.includes(id) ? s.planChosen : [...s.planChosen, id],
      })),
    movePlanStep: (id, to) =>
      set((s) => {
        const from = s.plan.findIndex((p) => p.checkpointId === id);
        if (from < 0) return s;
        const target = Math.max(0, Math.min(s.plan.length - 1, to));
        const next = [...s.plan];
        const [step] = next.splice(from, 1);
        next.splice(target, 0, step);
        return { plan: next };
      }),
    setPlan: (plan) => set({ plan }),
    architectures: {},
    planChosen: [],
    setArchitecture: (id, architecture) =>
      set((s) => {
        const architectures = { ...s.architectures, [id]: architecture };
        return { architectures, plan: settleMembership(s.plan, architectures, new Set(s.planChosen)) };
      }),
  };
};

const createViewSlice: StateCreator<AppState, [], [], ViewSlice> = (set) => ({
  view: {
    page: 'checkpoint',
    mode: 'selection',
    metric: 'snr',
    percent: 25,
    variant: 'current',
    activeId: null,
    selected: null,
    focused: null,
  },
  setView: (p) => set((s) => ({ view: { ...s.view, ...p } })),
});

const createEngineSlice: StateCreator<AppState, [], [], EngineSlice> = (set) => ({
  engine: {
    kind: 'cpu',
    note: 'CPU engine (float64)',
    fallback: null,
    online: typeof navigator === 'undefined' ? false : navigator.onLine,
  },
  setEngine: (p) => set((s) => ({ engine: { ...s.engine, ...p } })),
});

const createCacheSlice: StateCreator<AppState, [], [], CacheSlice> = (set) => ({
  cache: { usage: null, problem: null },
  setCache: (p) => set((s) => ({ cache: { ...s.cache, ...p } })),
});

export const EMPTY_DELTA: DeltaState = {
  fromId: null,
  toId: null,
  computed: null,
  status: 'idle',
  failure: null,
  progress: null,
  records: {},
  errors: [],
  skipped: [],
  totalJobs: 0,
  metric: 'relative_norm',
  selected: null,
  focused: null,
};

const createDeltaSlice: StateCreator<AppState, [], [], DeltaSlice> = (set) => ({
  delta: EMPTY_DELTA,
  setDelta: (p) => set((s) => ({ delta: { ...s.delta, ...p } })),
  addDeltaRecords: (records) =>
    set((s) => ({ delta: { ...s.delta, records: { ...s.delta.records, ...Object.fromEntries(records.map((r) => [r.name, r])) } } })),
  addDeltaErrors: (errors) => set((s) => ({ delta: { ...s.delta, errors: [...s.delta.errors, ...errors] } })),
});

const createRunSlice: StateCreator<AppState, [], [], RunSlice> = (set) => {
  const patch = (key: string, f: (c: RunCheckpointState) => Partial<RunCheckpointState>) =>
    set((s) =>
      s.run && s.run.checkpoints.some((c) => c.key === key)
        ? { run: { ...s.run, checkpoints: s.run.checkpoints.map((c) => (c.key === key ? { ...c, ...f(c) } : c)) } }
        : s,
    );
  return {
    run: null,
    setRun: (run) => set({ run }),
    updateRunCheckpoint: (key, p) => patch(key, () => p),
    addRunRecords: (key, records) =>
      patch(key, (c) => ({ records: { ...c.records, ...Object.fromEntries(records.map((r) => [r.name, r])) } })),
    addRunErrors: (key, errors) => patch(key, (c) => ({ errors: [...c.errors, ...errors] })),
    moveRunCheckpoint: (key, to) =>
      set((s) => {
        const from = s.run?.checkpoints.findIndex((c) => c.key === key) ?? -1;
        if (!s.run || from < 0) return s;
        const next = [...s.run.checkpoints];
        const [moved] = next.splice(from, 1);
        next.splice(Math.max(0, Math.min(next.length, to)), 0, moved);
        // the open matrix stays at its checkpoint, which may have moved
        const at = (i: number) => next.indexOf(s.run!.checkpoints[i]);
        const { selected, focused } = s.run.view;
        const view = {
          ...s.run.view,
          selected: selected && { ...selected, checkpoint: at(selected.checkpoint) },
          focused: focused && { ...focused, checkpoint: at(focused.checkpoint) },
        };
        return { run: { ...s.run, checkpoints: next, order: 'given', view } };
      }),
    setRunView: (p) => set((s) => (s.run ? { run: { ...s.run, view: { ...s.run.view, ...p } } } : s)),
  };
};

/** A store of the page's state: vanilla zustand, so that tests make their own without React. */
export function createAppStore() {
  return createStore<AppState>()((...a) => ({
    ...createCheckpointsSlice(...a),
    ...createPlanSlice(...a),
    ...createViewSlice(...a),
    ...createEngineSlice(...a),
    ...createCacheSlice(...a),
    ...createDeltaSlice(...a),
    ...createRunSlice(...a),
    ...createPlansViewSlice(a[0]),
  }));
}

export type AppStore = ReturnType<typeof createAppStore>;

/** The one store of the page, with a hook for components. */
export const appStore = createAppStore();

export function useApp<T>(selector: (s: AppState) => T): T {
  return useStore(appStore, selector);
}
