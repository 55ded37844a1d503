// Every page is its own chunk, loaded when first visited: the first load carries only the
// shell, the sign-in page and the overview (scripts/size.mjs measures it).
import { createBrowserRouter, Navigate, type RouteObject } from "react-router";
import { Layout } from "./Layout";
import { RequireAuth, RequirePermission } from "./guards";
import { OverviewPage } from "../pages/overview/OverviewPage";
import { SignInPage } from "../pages/SignInPage";
import type { Permission } from "../auth/roles";

type PageModule = { default: React.ComponentType };

function lazyPage(load: () => Promise<PageModule>, permission: Permission): RouteObject["lazy"] {
  return async () => {
    const { default: Page } = await load();
    return {
      Component: () => (
        <RequirePermission permission={permission}>
          <Page />
        </RequirePermission>
      ),
    };
  };
}

export const routes: RouteObject[] = [
  { path: "/sign-in", element: <SignInPage /> },
  {
    element: (
      <RequireAuth>
        <Layout />
      </RequireAuth>
    ),
    children: [
      { index: true, element: <OverviewPage /> },
      { path: "stations/:slug", lazy: lazyPage(() => import("../pages/station/StationPage"), "stations.read") },
      { path: "plays", lazy: lazyPage(() => import("../pages/plays/PlaysPage"), "plays.read") },
      { path: "reports", lazy: lazyPage(() => import("../pages/reports/ReportsPage"), "reports.read") },
      { path: "catalog", lazy: lazyPage(() => import("../pages/catalog/CatalogPage"), "catalog.read") },
      {
        path: "catalog/:externalId",
        lazy: lazyPage(() => import("../pages/catalog/RecordingPage"), "catalog.read"),
      },
      { path: "unknowns", lazy: lazyPage(() => import("../pages/unknowns/UnknownsPage"), "reports.read") },
      { path: "fleet", lazy: lazyPage(() => import("../pages/fleet/FleetPage"), "fleet.read") },
      { path: "*", element: <Navigate to="/" replace /> },
    ],
  },
];

export const router = createBrowserRouter(routes);
