// Small pieces the back office's views share.
import { Alert } from '@mantine/core';

export type Note = { ok: boolean; text: string };

// NoteAlert is the outcome of an action: a status when it worked, an alert
// when it did not.
export function NoteAlert({ note, onClose, testId }: { note: Note | undefined; onClose?: () => void; testId?: string }) {
  if (!note) return null;
  return (
    <Alert color={note.ok ? 'teal' : 'red'} role={note.ok ? 'status' : 'alert'} withCloseButton={!!onClose} onClose={onClose}
      closeButtonLabel="Dismiss" data-testid={testId}>
      {note.text}
    </Alert>
  );
}
