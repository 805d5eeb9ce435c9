import { Link } from 'react-router';
import { useTitle } from '../lib/use-title.ts';

export function NotFoundPage() {
  useTitle('Page not found');
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to="/">Back to the fleet</Link>.
      </p>
    </section>
  );
}
