// The catalog: products, their prices and stock. A product edit names the
// version it was made against: when someone else changed the product
// meanwhile, the form says so and can load theirs with this edit made
// again on top.
import { Alert, Button, Group, Modal, NumberInput, Stack, Table, Text, Textarea, TextInput, VisuallyHidden } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Section } from '../../components/States';
import { ApiError, errorText, get, newKey, request, send } from '../../lib/api';
import { conflictText, editedFields, fieldErrors, fieldsOf, reapply, reappliedText, type ProductFields } from '../../lib/backoffice';
import { count } from '../../lib/format';
import { money } from '../../lib/money';
import type { Product, Stock } from '../../lib/types';
import { useLeaveGuard } from '../../lib/route';
import { useApi } from '../../lib/useApi';
import { ScrollTable } from '../../components/ScrollTable';
import { NoteAlert, type Note } from './parts';

const slug = (s: string) => s.toLowerCase().trim().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 64);

type Editing = { product?: Product } | null;

export function Catalog() {
  const products = useApi<Product[]>('/products');
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Product>();
  const [note, setNote] = useState<Note>();

  async function remove(p: Product) {
    setNote(undefined);
    try {
      await send('DELETE', `/products/${encodeURIComponent(p.id)}`, undefined, { headers: { 'If-Match': `"${p.version}"` } });
      setNote({ ok: true, text: `${p.name} deleted.` });
    } catch (e) {
      setNote({ ok: false, text: e instanceof ApiError && e.status === 412 ? `${p.name} changed meanwhile, so it was not deleted: look at it again first.` : errorText(e) });
    } finally {
      setDeleting(undefined);
      products.reload();
    }
  }

  return (
    <Stack>
      <Group justify="space-between">
        <Text c="dimmed">Prices and descriptions customers see; stock goes up or down by the amount you enter.</Text>
        <Button onClick={() => setEditing({})}>Add product</Button>
      </Group>
      <NoteAlert note={note} onClose={() => setNote(undefined)} />
      <Section load={products} isEmpty={(d) => d.length === 0} empty="No products yet.">
        {(items) => (
          <ScrollTable label="Catalog table" minWidth={720}>
            <Table aria-label="Catalog" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Product</Table.Th>
                  <Table.Th ta="right">Price</Table.Th>
                  <Table.Th ta="right">Stock</Table.Th>
                  <Table.Th>Change stock</Table.Th>
                  <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((p) => (
                  <Table.Tr key={p.id}>
                    <Table.Td>
                      <Text fw={500}>{p.name}</Text>
                      <Text size="xs" c="dimmed">Product id {p.id}</Text>
                    </Table.Td>
                    <Table.Td ta="right">${money(p.price)}</Table.Td>
                    <Table.Td ta="right">{count(p.stock)}</Table.Td>
                    <Table.Td>
                      <Restock product={p} onStart={() => setNote(undefined)}
                        onDone={(after) => { setNote({ ok: true, text: `${p.name}: ${count(after.stock)} in stock.` }); products.reload(); }} />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap" justify="flex-end">
                        <Button size="xs" variant="default" onClick={() => setEditing({ product: p })} aria-label={`Edit ${p.name}`}>Edit</Button>
                        <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>Delete</Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollTable>
        )}
      </Section>
      {editing && (
        <ProductForm product={editing.product} onClose={() => setEditing(null)}
          onSaved={(p) => { setEditing(null); setNote({ ok: true, text: `${p.name} saved.` }); products.reload(); }} />
      )}
      <Modal opened={deleting !== undefined} onClose={() => setDeleting(undefined)} title="Delete product?">
        <Text>{deleting?.name} disappears from the store. Orders that bought it keep their lines.</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setDeleting(undefined)}>Keep it</Button>
          <Button color="red" onClick={() => deleting && void remove(deleting)}>Delete</Button>
        </Group>
      </Modal>
    </Stack>
  );
}

// Restock is one product's stock change: a form of its own, so Enter in
// the field applies it. A refusal shows under the field; onStart lets the
// catalog clear the outcome of the previous change.
function Restock({ product, onStart, onDone }: { product: Product; onStart: () => void; onDone: (s: Stock) => void }) {
  const [delta, setDelta] = useState<number | string>('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const n = Number(delta);
    if (!Number.isInteger(n) || n === 0) {
      setError('Enter how many to add, or a negative number to remove.');
      return;
    }
    onStart();
    setError(undefined);
    setBusy(true);
    try {
      const after = await request<Stock>('POST', `/products/${encodeURIComponent(product.id)}/stock`, { delta: n }, { headers: { 'Idempotency-Key': newKey() } });
      setDelta('');
      onDone(after);
    } catch (err) {
      setError(fieldErrors(err).delta ?? errorText(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={submit} aria-label={`Change the stock of ${product.name}`}>
      <Group gap={4} wrap="nowrap" align="flex-start">
        <NumberInput size="xs" w={110} aria-label={`Stock change for ${product.name}`} placeholder="+10" allowDecimal={false}
          value={delta} onChange={(v) => { setDelta(v); setError(undefined); }} error={error} />
        <Button size="xs" variant="light" type="submit" loading={busy} aria-label={`Apply stock change to ${product.name}`}>
          Apply
        </Button>
      </Group>
    </form>
  );
}

export function ProductForm({ product, onClose, onSaved }: { product?: Product; onClose: () => void; onSaved: (p: Product) => void }) {
  // base is the version this edit is made against: the product opened, or
  // after a conflict the latest one.
  const [base, setBase] = useState(product);
  const [started, setStarted] = useState<ProductFields>(() => fieldsOf(product));
  const [fields, setFields] = useState<ProductFields>(() => fieldsOf(product));
  const [id, setId] = useState(product?.id ?? '');
  const [stockN, setStockN] = useState<string | number>(0);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [conflict, setConflict] = useState(false);
  const [reapplied, setReapplied] = useState<string>();
  const [busy, setBusy] = useState(false);
  const theId = id || slug(fields.name);
  const edit = (change: Partial<ProductFields>) => setFields((f) => ({ ...f, ...change }));
  // Unsaved edits are not dropped by a stray Escape, a click beside the
  // dialog or a link: each asks first.
  const dirty = editedFields(started, fields).length > 0 || (!product && (id !== '' || Number(stockN) !== 0));
  useLeaveGuard(dirty);
  const close = () => {
    if (!dirty || window.confirm(product ? `Discard your changes to ${product.name}?` : 'Discard this new product?')) onClose();
  };

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(undefined);
    setConflict(false);
    setReapplied(undefined);
    const { name, description, image, price } = fields;
    const body = { id: theId, name, description, image, price: price === '' ? undefined : Number(price), ...(base ? {} : { stock: Number(stockN) || 0 }) };
    try {
      const p = base
        ? (await send<Product>('PUT', `/products/${encodeURIComponent(base.id)}`, body, { headers: { 'If-Match': `"${base.version}"` } })).body
        : await request<Product>('POST', '/products', body);
      onSaved(p);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) setConflict(true);
      else {
        setErrors(fieldErrors(err));
        setError(err);
      }
    } finally {
      setBusy(false);
    }
  }

  // loadTheirs reads the product as it is now and makes this edit again on
  // top: what the admin changed stays, the rest is theirs.
  async function loadTheirs() {
    if (!base) return;
    setBusy(true);
    try {
      const latest = await get<Product>(`/products/${encodeURIComponent(base.id)}`);
      const { values, changed } = reapply(started, fields, fieldsOf(latest));
      setBase(latest);
      setStarted(fieldsOf(latest));
      setFields(values);
      setConflict(false);
      setReapplied(reappliedText(changed));
    } catch (err) {
      setConflict(false);
      setError(err instanceof ApiError && err.status === 404 ? new Error(`${base.name} was deleted meanwhile: there is nothing to save it over.`) : err);
    } finally {
      setBusy(false);
    }
  }

  const unplaced = error !== undefined && Object.keys(errors).length === 0;
  return (
    <Modal opened onClose={close} title={product ? `Edit ${product.name}` : 'Add a product'}>
      <form onSubmit={submit} aria-label={product ? `Edit ${product.name}` : 'Add a product'}>
        <Stack>
          {conflict && (
            <Alert color="orange" role="alert" title="Not saved">
              <Stack gap="xs">
                <Text size="sm">{conflictText}</Text>
                <Group>
                  <Button size="xs" variant="light" color="orange" onClick={() => void loadTheirs()} loading={busy}>
                    Load their version and apply my changes again
                  </Button>
                </Group>
              </Stack>
            </Alert>
          )}
          {reapplied && <Alert color="blue" role="status">{reapplied}</Alert>}
          {unplaced && <Alert color="red" role="alert">{errorText(error)}</Alert>}
          <TextInput label="Name" required value={fields.name} onChange={(e) => edit({ name: e.currentTarget.value })} error={errors.name} />
          <TextInput label="Product id" description={product ? 'Ids do not change' : 'Used in links; made from the name if left empty'} value={product ? product.id : id}
            placeholder={slug(fields.name)} disabled={!!product} onChange={(e) => setId(e.currentTarget.value)} error={errors.id} />
          <NumberInput label="Price" required min={0} decimalScale={2} prefix="$" thousandSeparator="," value={fields.price}
            onChange={(price) => edit({ price })} error={errors.price} />
          {!product && <NumberInput label="Stock" min={0} allowDecimal={false} value={stockN} onChange={setStockN} error={errors.stock} />}
          <Textarea label="Description" autosize minRows={2} value={fields.description} onChange={(e) => edit({ description: e.currentTarget.value })} error={errors.description} />
          <TextInput label="Image" description="A path on this site (/images/…) or an https:// address" value={fields.image} onChange={(e) => edit({ image: e.currentTarget.value })} error={errors.image} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>Cancel</Button>
            <Button type="submit" loading={busy}>{product ? 'Save' : 'Add product'}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
