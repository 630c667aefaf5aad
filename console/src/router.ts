import { createRouter, createWebHistory, type LocationQueryValue, type RouteLocationNormalized } from 'vue-router'
import { home, session, whenExpired, type Role } from './session'
import { safeRedirect } from './urlquery'

// Every page is a chunk of its own, loaded when first opened, with the components it shows (see
// elements.ts): the first script holds Vue, the router and the app's frame only, so that neither
// the login page nor a signed-in page (the layout and the page, fetched at once) carries the other's.
export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', component: () => import('./views/Login.vue'), meta: { public: true } },
    {
      path: '/',
      component: () => import('./views/Layout.vue'),
      children: [
        { path: '', redirect: () => home(session.value?.role) },
        { path: 'buyer/catalog', component: () => import('./views/BuyerCatalog.vue'), meta: { role: 'buyer' } },
        { path: 'buyer/orders', component: () => import('./views/BuyerOrders.vue'), meta: { role: 'buyer' } },
        { path: 'station/orders', component: () => import('./views/StationOrders.vue'), meta: { role: 'station' } },
        { path: 'station/products', component: () => import('./views/StationProducts.vue'), meta: { role: 'station' } },
        { path: 'station/batches', component: () => import('./views/StationBatches.vue'), meta: { role: 'station' } },
        { path: 'station/households', component: () => import('./views/StationHouseholds.vue'), meta: { role: 'station' } },
        { path: 'admin/households', component: () => import('./views/AdminHouseholds.vue'), meta: { role: 'admin' } },
        { path: 'admin/report', component: () => import('./views/AdminReport.vue'), meta: { role: 'admin' } },
        { path: 'admin/users', component: () => import('./views/AdminUsers.vue'), meta: { role: 'admin' } },
        { path: 'buyer/statement', component: () => import('./views/BuyerStatement.vue'), meta: { role: 'buyer' } },
        { path: 'buyer/progress', component: () => import('./views/BuyerProgress.vue'), meta: { role: 'buyer' } },
        { path: 'admin/units', component: () => import('./views/AdminUnits.vue'), meta: { role: 'admin' } },
        { path: 'admin/stations', component: () => import('./views/AdminStations.vue'), meta: { role: 'admin' } },
        { path: 'admin/certification', component: () => import('./views/AdminProducts.vue'), meta: { role: 'admin' } },
        { path: 'admin/checks', component: () => import('./views/AdminChecks.vue'), meta: { role: 'admin' } },
        { path: 'admin/audit', component: () => import('./views/AdminAudit.vue'), meta: { role: 'admin' } },
        { path: 'buyer/reserve', component: () => import('./views/BuyerReserve.vue'), meta: { role: 'buyer' } },
        { path: 'admin/monitoring', component: () => import('./views/AdminMonitoring.vue'), meta: { role: 'admin' } },
        { path: 'admin/reserve', component: () => import('./views/AdminReserve.vue'), meta: { role: 'admin' } },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

/** signInFirst is the login page, remembering where the user was going (a deep link opened signed
 * out, or a page whose session ended): the login goes there afterwards (afterLogin). */
function signInFirst(to: RouteLocationNormalized) {
  return to.path === '/' || to.path === '/login' ? { path: '/login' } : { path: '/login', query: { redirect: to.fullPath } }
}

/** afterLogin is where a signed-in user goes from the login page: where the link was going, if it
 * is a page of the console (safeRedirect: never another site), else the role's first page. A page
 * of another role is then refused by the guard below, which sends the user to their own. */
export function afterLogin(redirect: LocationQueryValue | LocationQueryValue[] | undefined, role: Role): string {
  return safeRedirect(redirect) ?? home(role)
}

router.beforeEach((to) => {
  if (to.meta.public) return session.value && to.path === '/login' ? afterLogin(to.query.redirect, session.value.role) : true
  if (!session.value) return signInFirst(to)
  const role = to.meta.role as Role | undefined
  if (role && role !== session.value.role) return home(session.value.role)
  return true
})

whenExpired(() => void router.push(signInFirst(router.currentRoute.value)))
