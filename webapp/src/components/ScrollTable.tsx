// A table that scrolls sideways on a narrow screen. The scroller is a named
// region one can focus, so a keyboard reaches what is off screen (axe:
// scrollable-region-focusable).
import { Table } from '@mantine/core';
import type { ReactNode } from 'react';

export function ScrollTable({ label, minWidth, children }: { label: string; minWidth: number; children: ReactNode }) {
  return (
    <Table.ScrollContainer type="native" minWidth={minWidth} tabIndex={0} role="region" aria-label={label}>
      {children}
    </Table.ScrollContainer>
  );
}
