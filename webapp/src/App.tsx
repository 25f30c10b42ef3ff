// The shell: sign-in, then the pages the signed-in role may use.
import { Anchor, AppShell, Badge, Burger, Button, Group, Stack, Text, Tooltip } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { lazy, Suspense, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { currentUser, errorText, onUserChange, sessionEnded, signOut, type User } from './lib/api';
import { AccountProvider, useAccount } from './lib/account';
import { CartProvider } from './lib/cartStore';
import { ErrorBoundary } from './components/ErrorBoundary';
import { money } from './lib/money';
import { count } from './lib/format';
import { pendingWords } from './lib/points';
import type { Balance } from './lib/types';
import { go, useRoute } from './lib/route';
import { Loading } from './components/States';
import { SignIn } from './pages/SignIn';

// Pages load when first opened: the sign-in page, the first page of
// everyone, carries only the shell (a budget of 200 KiB of scripts and
// styles on a phone, tested); the campaign editor (CodeMirror) and the
// charts are most of the app's weight.
const Store = lazy(() => import('./pages/Store').then((m) => ({ default: m.Store })));
const BackOffice = lazy(() => import('./pages/BackOffice').then((m) => ({ default: m.BackOffice })));
const Campaigns = lazy(() => import('./pages/Campaigns').then((m) => ({ default: m.Campaigns })));
const Orders = lazy(() => import('./pages/Orders').then((m) => ({ default: m.Orders })));
const PointsCenter = lazy(() => import('./pages/PointsCenter').then((m) => ({ default: m.PointsCenter })));

type Page = { path: string; label: string; roles: User['role'][] };

const pages: Page[] = [
  { path: 'store', label: 'Store', roles: ['customer', 'admin'] },
  { path: 'orders', label: 'My orders', roles: ['customer'] },
  { path: 'points', label: 'Points', roles: ['customer'] },
  { path: 'campaigns', label: 'Campaigns', roles: ['marketer', 'admin'] },
  { path: 'admin', label: 'Back office', roles: ['admin'] },
];

export const homeOf = (role: User['role']) => (role === 'marketer' ? 'campaigns' : role === 'admin' ? 'admin' : 'store');

// mayOpen says whether the page an address names is one the role has.
const mayOpen = (role: User['role'], path: string | undefined) => pages.some((p) => p.path === path && p.roles.includes(role));

export function App() {
  const [user, setUser] = useState(currentUser);
  useEffect(() => onUserChange(setUser), []);
  // Signing in keeps the address the person came with (a bookmark, or the
  // page they were on when their session ended) when their role has it.
  if (!user) return <SignIn ended={sessionEnded()} onSignedIn={(u) => mayOpen(u.role, window.location.hash.replace(/^#\/?/, '').split('/')[0]) || go(`/${homeOf(u.role)}`)} />;
  return (
    <AccountProvider user={user} key={user.username}>
      <CartProvider username={user.username}>
        <Shell user={user} />
      </CartProvider>
    </AccountProvider>
  );
}

function Shell({ user }: { user: User }) {
  const [opened, { toggle, close }] = useDisclosure();
  const route = useRoute();
  const mine = pages.filter((p) => p.roles.includes(user.role));
  const current = mine.find((p) => p.path === route[0]) ?? mine.find((p) => p.path === homeOf(user.role))!;
  const where = route.join('/');
  // The phone menu closes on every move, also between two addresses of one
  // page (an order, then "My orders").
  useEffect(close, [where, close]);
  // The tab's title names the page; a page may name it more precisely (its
  // effect runs after this layout effect).
  useLayoutEffect(() => {
    document.title = `${current.label} · Unicorn Store`;
  }, [where, current.label]);
  // After a move, focus goes to the page's content, so that a keyboard or
  // screen reader starts there and not in the header it just left.
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    // A move made inside the page (a tab, a filter) keeps its focus; one
    // that took the focused element away (a link, the menu) starts again at
    // the content.
    const active = document.activeElement;
    if (active && active !== document.body && main.current?.contains(active)) return;
    main.current?.focus({ preventScroll: false });
  }, [where]);

  const nav = (vertical: boolean) =>
    mine.map((p) => (
      <Anchor
        key={p.path}
        href={`#/${p.path}`}
        fw={p === current ? 700 : 500}
        c={p === current ? 'grape' : 'dark'}
        aria-current={p === current ? 'page' : undefined}
        py={vertical ? 6 : 0}
        underline="hover"
        onClick={close}
      >
        {p.label}
      </Anchor>
    ));

  return (
    <AppShell header={{ height: 64 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened, desktop: true } }} padding="md">
      <a className="skip-link" href="#main-content" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>
        Skip to content
      </a>
      <AppShell.Header>
        <Group h="100%" px={{ base: 'xs', xs: 'md' }} justify="space-between" wrap="nowrap" gap="xs">
          <Group gap="lg" wrap="nowrap">
            <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Menu" />
            <Group gap={8} wrap="nowrap" visibleFrom="xs">
              <img src="/favicon.svg" alt="" width={28} height={28} />
              {/* The brand, not a heading: each page has its own h1. */}
              <Text fw={700} fz={22} c="grape" visibleFrom="xs">
                Unicorn Store
              </Text>
            </Group>
            <Group gap="md" visibleFrom="sm" component="nav" aria-label="Pages">
              {nav(false)}
            </Group>
          </Group>
          <Group gap="xs" wrap="nowrap" miw={0}>
            {user.role === 'customer' && <Balances />}
            <Text size="sm" visibleFrom="md" data-testid="signed-in-as">
              {user.username} <Text span c="dimmed">({user.role})</Text>
            </Text>
            <Button variant="subtle" size="xs" px={6} style={{ flexShrink: 0 }} onClick={() => void signOut()}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="md" component="nav" aria-label="Pages (menu)">
        {/* Only the phone menu: on wider screens the links are in the header. */}
        {opened && <Stack gap={0}>{nav(true)}</Stack>}
      </AppShell.Navbar>
      <AppShell.Main id="main-content" ref={main} tabIndex={-1} style={{ outline: 'none' }}>
        {/* Keyed by the address: each page starts fresh from its address (and a
            failed one is left behind). */}
        <ErrorBoundary key={where}>
          <Suspense fallback={<Loading />}>
            <PageView page={current.path} rest={route.slice(1)} user={user} />
          </Suspense>
        </ErrorBoundary>
      </AppShell.Main>
    </AppShell>
  );
}

function Balances() {
  const { wallet, points, walletError, pointsError } = useAccount();
  const unknown = (err: unknown) => (err !== undefined ? '—' : '…');
  return (
    <Group gap={6} wrap="nowrap">
      <Tooltip label={walletError !== undefined ? `Wallet unavailable: ${errorText(walletError)}` : 'Money in your wallet'}>
        <Badge size="lg" variant="light" color={walletError !== undefined ? 'gray' : 'teal'} data-testid="wallet-balance">
          {wallet ? `$${money(wallet.balance)}` : unknown(walletError)}
        </Badge>
      </Tooltip>
      <Tooltip multiline maw={260} label={pointsError !== undefined ? `Points unavailable: ${errorText(pointsError)}` : pointsHint(points)}>
        <Badge size="lg" variant="light" color={pointsError !== undefined ? 'gray' : 'grape'} data-testid="points-balance">
          {points ? `${points.balance.toLocaleString('en-US')} pts` : unknown(pointsError)}
        </Badge>
      </Tooltip>
      {points && points.pending > 0 && pointsError === undefined && (
        // Only where the header has room: the points page says it too.
        <Badge size="sm" variant="outline" color="indigo" visibleFrom="sm" data-testid="points-pending-badge">
          +{pendingWords(points.pending, [])}
        </Badge>
      )}
    </Group>
  );
}

// pointsHint explains the points badge: what one can spend, and what is
// pending (the header asks for the balance, not the lots with their dates).
function pointsHint(points: Balance | undefined): string {
  if (!points || points.pending === 0) return 'Loyalty points you can spend';
  return `Loyalty points you can spend. ${count(points.pending)} more are pending: spendable when the return window of the purchase that earned them ends.`;
}

function PageView({ page, rest, user }: { page: string; rest: string[]; user: User }) {
  switch (page) {
    case 'store':
      return <Store user={user} rest={rest} />;
    case 'orders':
      return <Orders user={user} orderId={rest[0]} />;
    case 'points':
      return <PointsCenter user={user} />;
    case 'campaigns':
      return <Campaigns user={user} name={rest[0]} />;
    default:
      return <BackOffice />;
  }
}
