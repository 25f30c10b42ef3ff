// The back office: the catalog and its stock, wallet deposits, orders
// whose compensation failed, the membership tiers and the webhooks.
import { Alert, Button, Group, Modal, NumberInput, Paper, Stack, Table, Tabs, Text, TextInput, Textarea, Title } from '@mantine/core';
import { useState, type FormEvent } from 'react';
import { Section } from '../components/States';
import { ApiError, errorText, newKey, request, send } from '../lib/api';
import { money } from '../lib/money';
import type { Order, OrderPage, Product, Stock, Wallet } from '../lib/types';
import { useApi } from '../lib/useApi';
import { when } from '../lib/format';
import { OrderDetail, StatusBadge } from './Orders';
import { TiersEditor } from './TiersEditor';
import { Webhooks } from './Webhooks';
import { useRoute } from '../lib/route';

export function BackOffice() {
  const route = useRoute();
  // The webhooks console reads the endpoints and the log once first opened,
  // and keeps what it shows (a secret shown once) while other tabs are.
  const [webhooksOpened, setWebhooksOpened] = useState(false);
  if (route[1] === 'orders' && route[2]) return <OrderDetail id={route[2]} back="#/admin" admin />;
  return (
    <Stack>
      <Title order={1} size="h2">Back office</Title>
      <Tabs defaultValue="products" onChange={(v) => v === 'webhooks' && setWebhooksOpened(true)}>
        <Tabs.List>
          <Tabs.Tab value="products">Products</Tabs.Tab>
          <Tabs.Tab value="wallets">Wallets</Tabs.Tab>
          <Tabs.Tab value="attention">Needs attention</Tabs.Tab>
          <Tabs.Tab value="tiers">Tiers</Tabs.Tab>
          <Tabs.Tab value="webhooks">Webhooks</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="products" pt="md">
          <Products />
        </Tabs.Panel>
        <Tabs.Panel value="wallets" pt="md">
          <Deposits />
        </Tabs.Panel>
        <Tabs.Panel value="attention" pt="md">
          <NeedsAttention />
        </Tabs.Panel>
        <Tabs.Panel value="tiers" pt="md">
          <TiersEditor />
        </Tabs.Panel>
        <Tabs.Panel value="webhooks" pt="md">
          {webhooksOpened && <Webhooks />}
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

// fieldErrors maps a 400's field problems to the form's inputs.
function fieldErrors(e: unknown): Record<string, string> {
  return e instanceof ApiError ? Object.fromEntries(e.errors.map((f) => [f.field, f.message])) : {};
}

const slug = (s: string) => s.toLowerCase().trim().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 64);

type Editing = { product?: Product } | null;

function Products() {
  const products = useApi<Product[]>('/products');
  const [editing, setEditing] = useState<Editing>(null);
  const [deleting, setDeleting] = useState<Product>();
  const [stock, setStock] = useState<Record<string, number | string>>({});
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();

  async function restock(p: Product) {
    const delta = Number(stock[p.id] ?? 0);
    if (!delta) return;
    setError(undefined);
    try {
      const after = await request<Stock>('POST', `/products/${encodeURIComponent(p.id)}/stock`, { delta });
      setDone(`${p.name}: ${after.stock} in stock.`);
      setStock((s) => ({ ...s, [p.id]: '' }));
      products.reload();
    } catch (e) {
      setError(e);
    }
  }

  async function remove(p: Product) {
    setError(undefined);
    try {
      await send('DELETE', `/products/${encodeURIComponent(p.id)}`, undefined, { headers: { 'If-Match': `"${p.version}"` } });
      setDone(`${p.name} deleted.`);
      products.reload();
    } catch (e) {
      setError(e);
    } finally {
      setDeleting(undefined);
    }
  }

  return (
    <Stack>
      <Group justify="space-between">
        <Text c="dimmed">Prices and descriptions customers see; stock goes up or down by the amount you enter.</Text>
        <Button onClick={() => setEditing({})}>Add product</Button>
      </Group>
      {error !== undefined && <Alert color="red" role="alert" withCloseButton onClose={() => setError(undefined)}>{errorText(error)}</Alert>}
      {done && <Alert color="teal" role="status" withCloseButton onClose={() => setDone(undefined)}>{done}</Alert>}
      <Section load={products} isEmpty={(d) => d.length === 0} empty="No products yet.">
        {(items) => (
          <Table.ScrollContainer minWidth={700}>
            <Table aria-label="Catalog" verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Product</Table.Th>
                  <Table.Th ta="right">Price</Table.Th>
                  <Table.Th ta="right">Stock</Table.Th>
                  <Table.Th>Change stock</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((p) => (
                  <Table.Tr key={p.id}>
                    <Table.Td>
                      <Text fw={500}>{p.name}</Text>
                      <Text size="xs" c="dimmed">{p.id}</Text>
                    </Table.Td>
                    <Table.Td ta="right">${money(p.price)}</Table.Td>
                    <Table.Td ta="right">{p.stock}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <NumberInput size="xs" w={90} aria-label={`Stock change for ${p.name}`} placeholder="+10" allowDecimal={false}
                          value={stock[p.id] ?? ''} onChange={(v) => setStock((s) => ({ ...s, [p.id]: v }))} />
                        <Button size="xs" variant="light" onClick={() => void restock(p)} disabled={!Number(stock[p.id])}>
                          Apply
                        </Button>
                      </Group>
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
          </Table.ScrollContainer>
        )}
      </Section>
      {editing && (
        <ProductForm product={editing.product} onClose={() => setEditing(null)}
          onSaved={(p) => { setEditing(null); setDone(`${p.name} saved.`); products.reload(); }} />
      )}
      <Modal opened={deleting !== undefined} onClose={() => setDeleting(undefined)} title="Delete product?" centered>
        <Text>{deleting?.name} disappears from the store. Orders that bought it keep their lines.</Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setDeleting(undefined)}>Keep it</Button>
          <Button color="red" onClick={() => deleting && void remove(deleting)}>Delete</Button>
        </Group>
      </Modal>
    </Stack>
  );
}

export function ProductForm({ product, onClose, onSaved }: { product?: Product; onClose: () => void; onSaved: (p: Product) => void }) {
  const [name, setName] = useState(product?.name ?? '');
  const [id, setId] = useState(product?.id ?? '');
  const [description, setDescription] = useState(product?.description ?? '');
  const [image, setImage] = useState(product?.image ?? '');
  const [price, setPrice] = useState<string | number>(product ? Number(product.price) : '');
  const [stockN, setStockN] = useState<string | number>(0);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const theId = id || slug(name);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(undefined);
    const body = { id: theId, name, description, image, price: price === '' ? undefined : Number(price), ...(product ? {} : { stock: Number(stockN) || 0 }) };
    try {
      const p = product
        ? (await send<Product>('PUT', `/products/${encodeURIComponent(product.id)}`, body, { headers: { 'If-Match': `"${product.version}"` } })).body
        : await request<Product>('POST', '/products', body);
      onSaved(p);
    } catch (err) {
      setErrors(fieldErrors(err));
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal opened onClose={onClose} title={product ? `Edit ${product.name}` : 'Add a product'} centered>
      <form onSubmit={submit}>
        <Stack>
          {error !== undefined && Object.keys(errors).length === 0 && <Alert color="red" role="alert">{errorText(error)}</Alert>}
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} />
          <TextInput label="Product id" description={product ? 'Ids do not change' : 'Used in links; made from the name if left empty'} value={product ? product.id : id}
            placeholder={slug(name)} disabled={!!product} onChange={(e) => setId(e.currentTarget.value)} error={errors.id} />
          <NumberInput label="Price" required min={0} decimalScale={2} prefix="$" value={price} onChange={setPrice} error={errors.price} />
          {!product && <NumberInput label="Stock" min={0} allowDecimal={false} value={stockN} onChange={setStockN} error={errors.stock} />}
          <Textarea label="Description" autosize minRows={2} value={description} onChange={(e) => setDescription(e.currentTarget.value)} error={errors.description} />
          <TextInput label="Image" description="A path on this site (/images/…) or an https:// address" value={image} onChange={(e) => setImage(e.currentTarget.value)} error={errors.image} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" loading={busy}>{product ? 'Save' : 'Add product'}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function Deposits() {
  const [username, setUsername] = useState('');
  const [amount, setAmount] = useState<string | number>('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newKey);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setResult(undefined);
    try {
      const w = await request<Wallet>('POST', `/users/${encodeURIComponent(username.trim())}/wallet/deposits`, { amount: Number(amount) }, { headers: { 'Idempotency-Key': key } });
      setResult({ ok: true, text: `${w.username} now has $${money(w.balance)}.` });
      setAmount('');
      setKey(newKey());
    } catch (err) {
      setErrors(fieldErrors(err));
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" maw={480}>
      <form onSubmit={submit} aria-label="Deposit">
        <Stack>
          <Text c="dimmed" size="sm">Add money to a customer's wallet. Sending the form twice by accident deposits once.</Text>
          {result && <Alert color={result.ok ? 'teal' : 'red'} role={result.ok ? 'status' : 'alert'}>{result.text}</Alert>}
          <TextInput label="Customer" required value={username} onChange={(e) => { setUsername(e.currentTarget.value); setKey(newKey()); }} error={errors.username} />
          <NumberInput label="Amount" required min={0.01} decimalScale={2} prefix="$" value={amount} onChange={(v) => { setAmount(v); setKey(newKey()); }} error={errors.amount} />
          <Group>
            <Button type="submit" loading={busy}>Deposit</Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function NeedsAttention() {
  const list = useApi<OrderPage>('/orders?status=needs_attention');
  const [busy, setBusy] = useState<string>();
  const [note, setNote] = useState<{ ok: boolean; text: string }>();

  async function retry(o: Order) {
    setBusy(o.id);
    setNote(undefined);
    try {
      const after = await request<Order>('POST', `/orders/${encodeURIComponent(o.id)}/retry`);
      setNote({ ok: true, text: `Order ${o.id} ran again: it is now ${after.status.replace('_', ' ')}.` });
      list.reload();
    } catch (e) {
      setNote({ ok: false, text: errorText(e) });
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <Stack>
      <Text c="dimmed" size="sm">Orders whose undoing failed even after retries. Fix the cause (a wallet, the stock), then run the compensation again.</Text>
      {note && <Alert color={note.ok ? 'teal' : 'red'} role={note.ok ? 'status' : 'alert'}>{note.text}</Alert>}
      <Section load={list} isEmpty={(d) => d.items.length === 0} empty="Nothing needs attention.">
        {(d) => (
          <Table aria-label="Orders needing attention">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Order</Table.Th>
                <Table.Th>Customer</Table.Th>
                <Table.Th>Since</Table.Th>
                <Table.Th>Why</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {d.items.map((o) => (
                <Table.Tr key={o.id}>
                  <Table.Td><a href={`#/admin/orders/${o.id}`}>{o.id}</a> <StatusBadge status={o.status} /></Table.Td>
                  <Table.Td>{o.user_id}</Table.Td>
                  <Table.Td>{when(o.updated_at)}</Table.Td>
                  <Table.Td><Text size="sm">{o.failure_reason ?? ''}</Text></Table.Td>
                  <Table.Td>
                    <Button size="xs" loading={busy === o.id} onClick={() => void retry(o)}>Retry</Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Section>
    </Stack>
  );
}
