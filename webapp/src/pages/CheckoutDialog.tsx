// AppModal is Mantine's Modal with a header that is not a <header>: inside
// a dialog, Mantine's <header> reads as a second banner landmark of the
// page (axe: landmark-no-duplicate-banner, landmark-unique).
import { Modal, type ModalRootProps } from '@mantine/core';
import type { ReactNode } from 'react';

type Props = Omit<ModalRootProps, 'title' | 'children'> & { title: ReactNode; children: ReactNode };

export function AppModal({ title, children, ...root }: Props) {
  return (
    <Modal.Root {...root}>
      <Modal.Overlay />
      <Modal.Content>
        <Modal.Header component="div">
          <Modal.Title>{title}</Modal.Title>
          <Modal.CloseButton aria-label="Close" />
        </Modal.Header>
        <Modal.Body>{children}</Modal.Body>
      </Modal.Content>
    </Modal.Root>
  );
}
