import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderUI } from '../test/render';
import { ProductForm } from './BackOffice';

afterEach(() => vi.unstubAllGlobals());

describe('ProductForm', () => {
  it('shows each problem the API names under its own field', async () => {
    const sent: unknown[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      sent.push(JSON.parse(String(init.body)));
      return new Response(
        JSON.stringify({ title: 'Invalid request', status: 400, errors: [{ field: 'image', message: 'an image is a path on this site or an https:// address' }] }),
        { status: 400, headers: { 'Content-Type': 'application/problem+json' } },
      );
    });
    const saved = vi.fn();
    renderUI(<ProductForm onClose={() => undefined} onSaved={saved} />);
    fireEvent.change(screen.getByLabelText(/^Name/), { target: { value: 'Sparkle Comet' } });
    fireEvent.change(screen.getByLabelText(/^Price/), { target: { value: '$42.5' } });
    fireEvent.change(screen.getByLabelText(/^Image/), { target: { value: 'ftp://x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add product' }));

    const image = screen.getByLabelText(/^Image/);
    await waitFor(() => expect(image.getAttribute('aria-invalid')).toBe('true'));
    expect(screen.getByText('an image is a path on this site or an https:// address')).toBeTruthy();
    expect(screen.getByLabelText(/^Name/).getAttribute('aria-invalid')).not.toBe('true');
    expect(saved).not.toHaveBeenCalled();
    // The id is made from the name; the price goes as a number.
    expect(sent).toEqual([{ id: 'sparkle-comet', name: 'Sparkle Comet', description: '', image: 'ftp://x', price: 42.5, stock: 0 }]);
  });
});
