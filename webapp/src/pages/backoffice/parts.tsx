// Small pieces the back office's views share.
import { Alert, Modal, Table } from '@mantine/core';
import type { ReactNode } from 'react';

// ScrollTable holds a table wider than a phone: it scrolls sideways, and
// can be reached and scrolled with the keyboard (a focusable region named
// after the table).
export function ScrollTable({ label, minWidth, children }: { label: string; minWidth: number; children: ReactNode }) {
  return (
    <Table.ScrollContainer type="native" minWidth={minWidth} tabIndex={0} role="region" aria-label={label}>
      {children}
    </Table.ScrollContainer>
  );
}

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

// Dialogs name their close button.
export const closeButtonProps = { 'aria-label': 'Close' };

// Mantine draws a dialog's title bar as a <header>, which reads as a
// second banner landmark beside the page's; a <div> does not.
const notABanner: Record<string, unknown> = { component: 'div' };

// Dialog is a centered modal dialog with a title and a named close button.
export function Dialog({ opened, onClose, title, children }: { opened: boolean; onClose: () => void; title: string; children: ReactNode }) {
  return (
    <Modal.Root opened={opened} onClose={onClose} centered>
      <Modal.Overlay />
      <Modal.Content>
        <Modal.Header {...notABanner}>
          <Modal.Title>{title}</Modal.Title>
          <Modal.CloseButton {...closeButtonProps} />
        </Modal.Header>
        <Modal.Body>{children}</Modal.Body>
      </Modal.Content>
    </Modal.Root>
  );
}
