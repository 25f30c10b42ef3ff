// The campaign center: the campaigns of the marketer's client (search,
// archive, budgets, what they award per day) and the editor of one, which
// checks a draft with the API as it is typed, simulates it on a sample
// purchase, backtests it on past ones, and keeps its versions.
import type { User } from '../lib/api';
import { CampaignEditor } from './campaigns/Editor';
import { CampaignList } from './campaigns/List';

export { ProblemList, WarningList } from './campaigns/Problems';

export function Campaigns({ user, name }: { user: User; name?: string }) {
  if (name === 'new') return <CampaignEditor user={user} key="new" />;
  if (name) return <CampaignEditor user={user} name={name} key={name} />;
  return <CampaignList user={user} />;
}
