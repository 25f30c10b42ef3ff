// A card of the points page: a section named by its heading, so a screen
// reader lists it among the page's regions.
import { Paper, Title } from '@mantine/core';
import { useId, type ReactNode } from 'react';

export function Card({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <Paper withBorder p="md" h="100%" component="section" aria-labelledby={id}>
      <Title order={2} size="h4" mb="sm" id={id}>
        {title}
      </Title>
      {children}
    </Paper>
  );
}
