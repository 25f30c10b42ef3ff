// A product's own page (#/store/p/{id}): its picture, words, price and
// stock, and how many to put in the cart.
import { Alert, Anchor, Badge, Button, Grid, Group, Image, NumberInput, Paper, Stack, Text, Title } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ErrorNote, Loading } from '../components/States';
import { ApiError } from '../lib/api';
import { maxQuantity } from '../lib/cart';
import { noImage } from '../lib/catalog';
import { useCart } from '../lib/cartStore';
import { count } from '../lib/format';
import { money } from '../lib/money';
import { useDocumentTitle } from '../lib/title';
import type { Product } from '../lib/types';
import { useApi } from '../lib/useApi';

export function ProductPage({ id, canBuy, onChanged }: { id: string; canBuy: boolean; onChanged: () => void }) {
  const product = useApi<Product>(`/products/${encodeURIComponent(id)}`);
  const gone = product.error instanceof ApiError && product.error.status === 404;
  // The list's copy of the catalog learns that this product went.
  useEffect(() => {
    if (gone) onChanged();
  }, [gone, onChanged]);
  useDocumentTitle(product.data?.name ?? (gone ? 'Unicorn not found' : undefined));
  return (
    <Stack>
      <Anchor href="#/store">← All unicorns</Anchor>
      {gone ? (
        <>
          <Title order={1} size="h2">Unicorn not found</Title>
          <Alert color="orange" role="status" data-testid="product-gone">
            This unicorn is no longer sold. <Anchor href="#/store">See the unicorns we have</Anchor>.
          </Alert>
        </>
      ) : product.data ? (
        <ProductView p={product.data} canBuy={canBuy} />
      ) : product.error !== undefined ? (
        <ErrorNote error={product.error} onRetry={product.reload} />
      ) : (
        <Loading />
      )}
    </Stack>
  );
}

function ProductView({ p, canBuy }: { p: Product; canBuy: boolean }) {
  const { cart, dispatch } = useCart();
  const [quantity, setQuantity] = useState<number | string>(1);
  const [added, setAdded] = useState<number>();
  const inCart = cart.find((l) => l.productId === p.id)?.quantity ?? 0;
  const soldOut = p.stock <= 0;
  const n = typeof quantity === 'number' ? quantity : 0;
  // Nothing more than the shelf holds (with what is in the cart already).
  const room = Math.max(0, Math.min(maxQuantity, p.stock) - inCart);
  const tooMany = n > room;

  function add() {
    if (n < 1 || tooMany) return;
    dispatch({ type: 'add', product: p, quantity: n });
    setAdded(n);
    setQuantity(1);
  }

  return (
    <Grid gap="lg" data-testid="product-page">
      <Grid.Col span={{ base: 12, sm: 6 }}>
        <Image src={p.image || undefined} alt={p.name} radius="md" bg="grape.0" fit="cover" h={{ base: 260, sm: 340 }} w="100%" fallbackSrc={noImage} />
      </Grid.Col>
      <Grid.Col span={{ base: 12, sm: 6 }}>
        <Stack gap="sm">
          <Title order={1} size="h2">{p.name}</Title>
          <Text fw={700} size="xl" c="grape" data-testid="product-price">${money(p.price)}</Text>
          <Group gap="xs">
            <StockBadge stock={p.stock} />
            {inCart > 0 && <Text size="sm" c="dimmed">{count(inCart)} in your cart</Text>}
          </Group>
          {p.description && <Text>{p.description}</Text>}
          {canBuy && !soldOut && (
            <Paper withBorder p="md" component="form" onSubmit={(e) => { e.preventDefault(); add(); }} aria-label="Add to cart">
              <Group align="flex-start" gap="sm">
                <NumberInput
                  label="Quantity"
                  value={quantity}
                  onChange={(v) => { setQuantity(v); setAdded(undefined); }}
                  min={1}
                  max={Math.max(1, room)}
                  allowDecimal={false}
                  allowNegative={false}
                  w={110}
                  error={tooMany ? (room === 0 ? 'Your cart holds all there is' : `Only ${count(room)} more available`) : undefined}
                />
                <Button type="submit" mt={25} disabled={n < 1 || tooMany}>
                  Add to cart
                </Button>
              </Group>
            </Paper>
          )}
          {added !== undefined && (
            <Alert color="teal" role="status" data-testid="product-added">
              Added {count(added)} {p.name} to your cart. <Anchor href="#/store">Keep shopping</Anchor> or{' '}
              <Anchor component="button" type="button" onClick={() => document.getElementById('cart')?.scrollIntoView({ behavior: 'smooth' })}>
                go to the cart
              </Anchor>
              .
            </Alert>
          )}
        </Stack>
      </Grid.Col>
    </Grid>
  );
}

export function StockBadge({ stock }: { stock: number }) {
  const soldOut = stock <= 0;
  return (
    <Badge color={soldOut ? 'red' : stock < 5 ? 'orange' : 'teal'} variant="light">
      {soldOut ? 'Sold out' : `${count(stock)} in stock`}
    </Badge>
  );
}
