import { fireEvent, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderUI } from '../test/render';
import { ProductForm } from './backoffice/Catalog';

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
    expect(screen.getByText('An image is a path on this site or an https:// address')).toBeTruthy();
    expect(screen.getByLabelText(/^Name/).getAttribute('aria-invalid')).not.toBe('true');
    expect(saved).not.toHaveBeenCalled();
    // The id is made from the name; the price goes as a number.
    expect(sent).toEqual([{ id: 'sparkle-comet', name: 'Sparkle Comet', description: '', image: 'ftp://x', price: 42.5, stock: 0 }]);
  });

  it('on a concurrent change, says so and loads theirs with this edit on top, then saves against their version', async () => {
    const mine = { id: 'g', name: 'Golden Mane', description: 'Calm', image: '/images/g.svg', price: 1299.5, stock: 7, version: 1, updated_at: '' };
    const theirs = { ...mine, description: 'Calm and golden', version: 2 };
    const calls: { method: string; ifMatch?: string; body?: unknown }[] = [];
    vi.stubGlobal('fetch', async (_url: string, init: RequestInit) => {
      const headers = (init.headers ?? {}) as Record<string, string>;
      calls.push({ method: init.method ?? 'GET', ifMatch: headers['If-Match'], body: init.body ? JSON.parse(String(init.body)) : undefined });
      const json = { 'Content-Type': 'application/json' };
      if (init.method === 'GET') return new Response(JSON.stringify(theirs), { status: 200, headers: json });
      if (headers['If-Match'] === '"1"') {
        return new Response(JSON.stringify({ title: 'Changed meanwhile', status: 412, detail: 'product g changed meanwhile', errors: [{ field: 'If-Match', message: 'product g changed meanwhile' }] }),
          { status: 412, headers: { 'Content-Type': 'application/problem+json' } });
      }
      return new Response(JSON.stringify({ ...theirs, price: 1400, version: 3 }), { status: 200, headers: json });
    });
    const saved = vi.fn();
    renderUI(<ProductForm product={mine} onClose={() => undefined} onSaved={saved} />);
    fireEvent.change(screen.getByLabelText(/^Price/), { target: { value: '$1400' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText(/Someone else changed this product while you edited it/);
    fireEvent.click(screen.getByRole('button', { name: /^Load their version/ }));
    await screen.findByText(/Your change to the price is applied on top/);
    expect((screen.getByLabelText(/^Description/) as HTMLTextAreaElement).value).toBe('Calm and golden');
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(saved).toHaveBeenCalled());
    expect(calls.map((c) => `${c.method} ${c.ifMatch ?? ''}`)).toEqual(['PUT "1"', 'GET ', 'PUT "2"']);
    expect(calls[2].body).toMatchObject({ description: 'Calm and golden', price: 1400 });
  });

  it('closes at once when nothing changed, and asks before dropping an edit', () => {
    const product = { id: 'g', name: 'Golden Mane', description: 'Calm', image: '/images/g.svg', price: 1299.5, stock: 7, version: 1, updated_at: '' };
    const confirm = vi.fn(() => false);
    vi.stubGlobal('confirm', confirm);
    const closed = vi.fn();
    renderUI(<ProductForm product={product} onClose={closed} onSaved={() => undefined} />);
    fireEvent.change(screen.getByLabelText(/^Price/), { target: { value: '$1299.50' } }); // the same amount
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(confirm).not.toHaveBeenCalled();
    expect(closed).toHaveBeenCalledTimes(1);

    fireEvent.change(screen.getByLabelText(/^Description/), { target: { value: 'Calm and golden' } });
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(confirm).toHaveBeenCalledWith('Discard your changes to Golden Mane?');
    expect(closed).toHaveBeenCalledTimes(1); // they stayed
    confirm.mockReturnValue(true);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(closed).toHaveBeenCalledTimes(2);
  });
});
