// When the customer's points expire: the next expiry in a sentence, then
// each date with the points that expire on it, soonest first.
import { Table, Text } from '@mantine/core';
import { count, date } from '../../lib/format';
import { nextExpiry, type ExpiryDay } from '../../lib/points';
import { ScrollTable } from '../../components/ScrollTable';

export function Expiry({ days }: { days: ExpiryDay[] }) {
  return (
    <>
      <Text fw={600} mb="sm" data-testid="next-expiry">
        {nextExpiry(days)}
      </Text>
      {days.length > 0 && (
        <ScrollTable label="Points by expiry date, scrollable" minWidth={260}>
          <Table aria-label="Points by expiry date" verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Expires on</Table.Th>
                <Table.Th ta="right">Points</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {days.map((d) => (
                <Table.Tr key={d.on}>
                  <Table.Td>{date(d.on)}</Table.Td>
                  <Table.Td ta="right">
                    {count(d.points)}
                    {d.pending > 0 && (
                      <Text span size="sm" c="indigo">
                        {' '}
                        ({count(d.pending)} pending)
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollTable>
      )}
    </>
  );
}
