import { MantineProvider } from '@mantine/core';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { resolver, theme } from '../lib/theme';

// renderUI renders as the app does: with its theme (named dialog close
// buttons, readable colors).
export const renderUI = (ui: ReactElement) =>
  render(
    <MantineProvider theme={theme} cssVariablesResolver={resolver}>
      {ui}
    </MantineProvider>,
  );
