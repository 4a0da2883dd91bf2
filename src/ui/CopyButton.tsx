import { useState } from 'react';

interface Props {
  label: string;
  /** the text copied, made when clicked */
  text(): string;
  title?: string;
  disabled?: boolean;
}

/**
 * A button that copies text and says whether it worked for a moment: the browser may refuse the
 * clipboard (no permission, page not focused), and then the old text would be pasted unawares.
 */
export function CopyButton({ label, text, title, disabled }: Props) {
  const [said, setSaid] = useState<'Copied' | 'Copy failed' | null>(null);
  const flash = (what: 'Copied' | 'Copy failed') => {
    setSaid(what);
    setTimeout(() => setSaid(null), 1500);
  };
  return (
    <button
      type="button"
      title={title}
      disabled={disabled}
      onClick={() =>
        void navigator.clipboard.writeText(text()).then(
          () => flash('Copied'),
          () => flash('Copy failed'),
        )
      }
    >
      {said ?? label}
    </button>
  );
}
