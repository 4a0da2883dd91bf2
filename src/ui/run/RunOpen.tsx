import { useRef, useState } from 'react';
import { stepOfName } from '../../core/timeline/steps.ts';
import { groupCheckpoints, runOfDrop, type PickedFile } from '../../state/group-files.ts';
import { loadDemoRun, scanner } from '../../state/scanner.ts';

const relativePath = (file: File) => (file as File & { webkitRelativePath?: string }).webkitRelativePath || file.name;

/** A folder opened as a run, or the reason it is not one. */
export function openRunFolder(picked: PickedFile[]): string | null {
  const run = runOfDrop(picked);
  if (!run) {
    return 'This folder is not a training run: it needs two or more checkpoint folders side by side, each named with a step (checkpoint-500, step_1000, …) or holding a trainer_state.json.';
  }
  void scanner.openRun({ ...run, origin: 'user', order: 'steps' });
  return null;
}

/**
 * Weight files picked one by one, each a checkpoint: ordered by the steps their names carry when every one has
 * one, else as picked (the order can be edited afterwards).
 */
export function openRunFiles(files: File[]): string | null {
  const groups = groupCheckpoints(files.map((file) => ({ file, path: file.name })));
  if (groups.length < 2) return 'A run needs two or more checkpoints: pick their weight files (.safetensors, .gguf) together.';
  const checkpoints = groups.map((g) => ({ path: g.files[0].name, files: g.files, trainerState: null }));
  const named = checkpoints.every((c) => stepOfName(c.path) !== null);
  void scanner.openRun({ name: 'run', origin: 'user', order: named ? 'steps' : 'given', checkpoints });
  return null;
}

/** How to open a run: the demo run, a training output folder, or checkpoints picked one by one. */
export function RunOpen({ compact = false }: { compact?: boolean }) {
  const folder = useRef<HTMLInputElement>(null);
  const files = useRef<HTMLInputElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <div className={compact ? 'run-open compact' : 'run-open'}>
      {!compact && (
        <p>
          Open a training run: its output folder in the Hugging Face Trainer layout (<code>checkpoint-&lt;step&gt;/</code> with the weights,{' '}
          <code>config.json</code> and <code>trainer_state.json</code>), checkpoint folders named by step (<code>step_1000</code>,{' '}
          <code>global_step1000</code>, <code>ckpt-1k</code>), or checkpoint files picked one by one. Each checkpoint is scanned here,
          newest and oldest first; a checkpoint scanned before comes from the cache.
        </p>
      )}
      <div className="buttons">
        <button
          onClick={() => {
            setProblem(null);
            loadDemoRun().catch((e: unknown) =>
              setProblem(`The demo run could not be loaded: ${e instanceof Error ? e.message : String(e)}`),
            );
          }}
        >
          Open the demo training run
        </button>
        <button onClick={() => folder.current?.click()}>Open a run folder…</button>
        <button onClick={() => files.current?.click()}>Pick checkpoints one by one…</button>
      </div>
      <input
        ref={folder}
        type="file"
        hidden
        data-testid="run-folder-input"
        {...{ webkitdirectory: '' }}
        onChange={(e) => {
          const list = [...(e.currentTarget.files ?? [])];
          e.currentTarget.value = '';
          setProblem(openRunFolder(list.map((file) => ({ file, path: relativePath(file) }))));
        }}
      />
      <input
        ref={files}
        type="file"
        multiple
        accept=".safetensors,.gguf,.json"
        hidden
        data-testid="run-files-input"
        onChange={(e) => {
          const list = [...(e.currentTarget.files ?? [])];
          e.currentTarget.value = '';
          setProblem(openRunFiles(list));
        }}
      />
      {problem && (
        <p className="error-line" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
