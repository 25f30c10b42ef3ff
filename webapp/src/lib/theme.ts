// The app's colors, made readable. Mantine's light scheme puts white on
// shade 6 of a color (4.0:1 for grape, 3.3:1 for green) and colored text on
// white or on a pale tint at about 4.3:1; WCAG AA asks 4.5:1 for text. Each
// color's variables here are Mantine's own shades, darkened only as far as
// it takes to reach 4.7:1 against what they are drawn on.
import { Anchor, DEFAULT_THEME, createTheme, type CSSVariablesResolver, type MantineColorsTuple } from '@mantine/core';

// Links are underlined: inside a sentence, color alone does not tell them
// from the text around them (menus and tabs, which are not in a sentence,
// say otherwise where they are drawn).
export const theme = createTheme({
  primaryColor: 'grape',
  primaryShade: { light: 8, dark: 8 },
  defaultRadius: 'md',
  components: {
    Anchor: Anchor.extend({ defaultProps: { underline: 'always' } }),
    // A dialog's title bar is Mantine's <header>: inside a dialog it reads as
    // a second banner landmark of the page. A <div> says nothing; and the
    // close button, an icon, needs a name.
    Modal: { defaultProps: { centered: true } },
    ModalHeader: { defaultProps: { component: 'div' } },
    ModalCloseButton: { defaultProps: { 'aria-label': 'Close' } },
  },
});

const target = 4.7; // a margin over 4.5 for anti-aliased small text

function channels(hex: string): number[] {
  const h = hex.replace('#', '');
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
}

function luminance(rgb: number[]): number {
  const [r, g, b] = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

export function contrast(a: string, b: string): number {
  const [x, y] = [luminance(channels(a)), luminance(channels(b))];
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}

// readable darkens fg in small steps until it reads on bg.
export function readable(fg: string, bg: string): string {
  let rgb = channels(fg);
  const hex = () => '#' + rgb.map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
  for (let i = 0; i < 20 && contrast(hex(), bg) < target; i++) rgb = rgb.map((v) => v * 0.93);
  return hex();
}

export const resolver: CSSVariablesResolver = () => {
  const light: Record<string, string> = { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)' };
  for (const [name, shades] of Object.entries(DEFAULT_THEME.colors) as [string, MantineColorsTuple][]) {
    if (name === 'dark' || name === 'gray') continue;
    const filled = readable(shades[8], '#ffffff');
    light[`--mantine-color-${name}-filled`] = filled;
    light[`--mantine-color-${name}-filled-hover`] = readable(shades[9], '#ffffff');
    // On the tint, and on its hover (shade 2), the darker of the two.
    light[`--mantine-color-${name}-light-color`] = readable(shades[9], shades[2]);
    light[`--mantine-color-${name}-text`] = readable(shades[8], '#ffffff');
    light[`--mantine-color-${name}-outline`] = readable(shades[8], '#ffffff');
  }
  // Input errors are drawn in red-6 (3.3:1 on white).
  light['--mantine-color-error'] = light['--mantine-color-red-text'];
  return { variables: {}, light, dark: {} };
};
