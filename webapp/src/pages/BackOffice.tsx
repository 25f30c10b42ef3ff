// The back office: the catalog and its stock, every order, a customer's
// wallet, points and orders, the users, the membership tiers and the
// webhooks. Each view has its address (#/admin/{view}), so a link or a
// reload opens it; one order opens at #/admin/orders/{id}.
import { Stack, Tabs, Title } from '@mantine/core';
import { useEffect } from 'react';
import { views, viewOf, type View } from '../lib/backoffice';
import { go, useRoute } from '../lib/route';
import { useDocumentTitle } from '../lib/title';
import { AllOrders } from './backoffice/AllOrders';
import { Catalog } from './backoffice/Catalog';
import { Customers } from './backoffice/Customers';
import { Users } from './backoffice/Users';
import { OrderDetail } from './Orders';
import { TiersEditor } from './TiersEditor';
import { Webhooks } from './Webhooks';

// The page is made anew when the address changes, and the shell then puts
// the focus on the page's content: a tab chosen (by click or arrow key)
// gets it back, after the shell's move, so that the arrow keys go on.
let focusTab = false;

export function BackOffice() {
  const route = useRoute();
  if (route[1] === 'orders' && route[2]) return <OrderDetail id={route[2]} back="#/admin/orders" admin />;
  return <Views view={viewOf(route[1])} rest={route.slice(2)} />;
}

function Views({ view, rest }: { view: View; rest: string[] }) {
  const label = views.find((v) => v.value === view)!.label;
  useDocumentTitle(view === 'customers' && rest[0] ? `${rest[0]} · Customers · Back office` : `${label} · Back office`);
  useEffect(() => {
    if (!focusTab) return;
    focusTab = false;
    const t = setTimeout(() => document.getElementById(`backoffice-tab-${view}`)?.focus());
    return () => clearTimeout(t);
  }, [view]);

  return (
    <Stack>
      <Title order={1} size="h2">Back office</Title>
      <Tabs id="backoffice" value={view} onChange={(v) => {
        if (!v || v === view) return;
        focusTab = true;
        go(`/admin/${v}`);
      }}>
        <Tabs.List aria-label="Back office views">
          {views.map((v) => (
            <Tabs.Tab key={v.value} value={v.value}>{v.label}</Tabs.Tab>
          ))}
        </Tabs.List>
        {views.map((v) => (
          <Tabs.Panel key={v.value} value={v.value} pt="md">
            {v.value === view && <ViewOf view={view} rest={rest} />}
          </Tabs.Panel>
        ))}
      </Tabs>
    </Stack>
  );
}

function ViewOf({ view, rest }: { view: View; rest: string[] }) {
  switch (view) {
    case 'orders':
      return <AllOrders />;
    case 'customers':
      return <Customers username={rest[0]} />;
    case 'users':
      return <Users />;
    case 'tiers':
      return <TiersEditor />;
    case 'webhooks':
      return <Webhooks />;
    default:
      return <Catalog />;
  }
}
