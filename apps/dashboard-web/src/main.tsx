import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { AppProvider, queryClient } from './app/provider.tsx';
import { router } from './app/router.tsx';
import { setCsrfToken, setUnauthorizedHandler } from './lib/api.ts';
import { queryKeys } from './lib/query-keys.ts';
import './styles.css';

// The session ended under us (expired, logged out elsewhere, account suspended): forget what
// this user could see and go to the login page, which brings them back here afterwards.
setUnauthorizedHandler(() => {
  setCsrfToken(null);
  queryClient.clear();
  queryClient.setQueryData(queryKeys.session, null);
  const { pathname, search } = window.location;
  if (pathname !== '/login') void router.navigate(`/login?next=${encodeURIComponent(pathname + search)}&ended=1`, { replace: true });
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <AppProvider>
      <RouterProvider router={router} />
    </AppProvider>
  </StrictMode>,
);
