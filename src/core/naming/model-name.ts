/**
 * What a checkpoint is called (tabs, Spectrum's `snr_results_<Org-Name>…` file names): the model's
 * own word first, then where it lies. A name the user gave (`--model-name`, a renamed tab) wins over
 * all of these and never reaches this function.
 */

/** A Hugging Face hub id: `Name` or `Org/Name`, as `_name_or_path` holds it for a downloaded model. */
const HUB_ID = /^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/;

/** The Hugging Face cache layout: `…/models--Org--Name/snapshots/<commit>/…`. */
const HF_CACHE = /(?:^|\/)models--([^/]+?)\/snapshots\/[^/]+(?:\/|$)/;

/** `Org/Name` from a path in the Hugging Face cache, or null. */
export function hubIdFromCachePath(path: string): string | null {
  const match = HF_CACHE.exec(path.replace(/\\/g, '/'));
  if (!match) return null;
  const parts = match[1].split('--');
  return parts.every((p) => p.length > 0) ? parts.join('/') : null;
}

/**
 * The default name of a checkpoint: config.json's `_name_or_path` when it is a hub id (a local path
 * there names the trainer's machine, not the model), else the hub id of a Hugging Face cache path,
 * else the folder or file name (`fallback`).
 */
export function modelName(config: Readonly<Record<string, unknown>> | null, path: string | undefined, fallback: string): string {
  const declared = config && Object.hasOwn(config, '_name_or_path') ? config._name_or_path : undefined;
  if (typeof declared === 'string' && HUB_ID.test(declared.trim())) return declared.trim();
  return (path !== undefined ? hubIdFromCachePath(path) : null) ?? fallback;
}
