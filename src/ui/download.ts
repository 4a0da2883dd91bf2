/** Save text or a blob as a file the user downloads (nothing leaves the machine). */
export function download(name: string, content: string | Blob, type = 'text/plain'): void {
  const blob = typeof content === 'string' ? new Blob([content], { type }) : content;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A checkpoint or metric name as part of a file name: anything but letters, digits, `_`, `.` and `-` becomes `-`. */
export function fileNamePart(name: string): string {
  return name.replace(/[^\w.-]+/g, '-');
}
