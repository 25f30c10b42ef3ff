// Dialog is Mantine's Modal with a named close button and a title bar that
// is not a <header> (inside a dialog, it would read as a second banner
// landmark of the page: axe landmark-no-duplicate-banner).
import { Modal } from '@mantine/core';
import type { ReactNode } from 'react';

const notABanner: Record<string, unknown> = { component: 'div' };

export function Dialog({ opened, onClose, title, children }: { opened: boolean; onClose: () => void; title: string; children: ReactNode }) {
  return (
    <Modal.Root opened={opened} onClose={onClose} centered>
      <Modal.Overlay />
      <Modal.Content>
        <Modal.Header {...notABanner}>
          <Modal.Title>{title}</Modal.Title>
          <Modal.CloseButton aria-label="Close" />
        </Modal.Header>
        <Modal.Body>{children}</Modal.Body>
      </Modal.Content>
    </Modal.Root>
  );
}
