import { transferHandlers, type TransferHandler } from 'comlink';

/**
 * Comlink sends a thrown Error as {message, name, stack} alone; a ScanError's code, file and tensor
 * must survive the worker boundary too (the receiving side copies every field onto its Error).
 */
const original = transferHandlers.get('throw') as TransferHandler<{ value: unknown }, { isError: boolean; value: unknown }>;
const withCodes: TransferHandler<{ value: unknown }, { isError: boolean; value: unknown }> = {
  canHandle: original.canHandle,
  deserialize: original.deserialize,
  serialize(thrown) {
    const [serialized, transfer] = original.serialize(thrown);
    const v = thrown.value as { code?: unknown; file?: unknown; tensor?: unknown };
    if (serialized.isError && typeof v.code === 'string') {
      serialized.value = { ...(serialized.value as object), code: v.code, file: v.file, tensor: v.tensor };
    }
    return [serialized, transfer];
  },
};
transferHandlers.set('throw', withCodes as TransferHandler<unknown, unknown>);
