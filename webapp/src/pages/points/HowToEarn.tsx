// How to earn points, plainly: purchases earn them, they are pending until
// the return window ends, a tier multiplies them, and what they are worth
// and how long they last (the store's settings). Customers cannot read the
// campaigns, so it says no rates.
import { List } from '@mantine/core';
import { count } from '../../lib/format';
import { money } from '../../lib/money';
import { multiplier, tierTitle, tierView } from '../../lib/tiers';
import type { Settings, Standing } from '../../lib/types';

export function HowToEarn({ standing, settings }: { standing?: Standing; settings?: Settings }) {
  const tier = standing && tierView(standing);
  return (
    <List spacing={6} size="sm">
      <List.Item>Purchases earn points: they are added to your account when the order completes.</List.Item>
      <List.Item>
        The points a purchase earns stay pending until the purchase's return window ends; then you can spend them. If you return
        what you bought, the points it earned are taken back.
      </List.Item>
      {tier && standing && (
        <List.Item data-testid="earn-tier">
          {tierWords(standing, tier.title)}
        </List.Item>
      )}
      {settings && (
        <>
          <List.Item>
            Each point is worth ${money(settings.point_value)} when you pay with it. At checkout, switch on "Use my points".
          </List.Item>
          <List.Item>
            Points expire {count(settings.point_ttl_days)} {settings.point_ttl_days === 1 ? 'day' : 'days'} after the day you earn them.
          </List.Item>
        </>
      )}
    </List>
  );
}

// tierWords: "As a Silver member you earn ×1.25 points. Earn 3,800 more
// points to reach Gold (×1.5)."
function tierWords(s: Standing, title: string): string {
  const mine = `As a ${title} member you earn ${multiplier(s.multiplier)} the points of a purchase.`;
  if (!s.next) return `${mine} ${title} is the top tier.`;
  const next = s.tiers.find((t) => t.name === s.next?.name);
  const within = s.window_days ? ` within ${count(s.window_days)} days` : '';
  return `${mine} Earn ${count(s.next.needs)} more ${s.next.needs === 1 ? 'point' : 'points'}${within} to reach ${tierTitle(s.next.name)}${next ? ` (${multiplier(next.multiplier)})` : ''}.`;
}
