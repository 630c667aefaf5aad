import { createRouter, createWebHistory } from 'vue-router'
import Login from './views/Login.vue'
import Layout from './views/Layout.vue'
import { whenExpired } from './api/client'
import { home, session, type Role } from './session'

// Pages other than the login are loaded when first opened, so the login page loads least.
export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/login', component: Login, meta: { public: true } },
    {
      path: '/',
      component: Layout,
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

router.beforeEach((to) => {
  if (to.meta.public) return session.value && to.path === '/login' ? home(session.value.role) : true
  if (!session.value) return { path: '/login' }
  const role = to.meta.role as Role | undefined
  if (role && role !== session.value.role) return home(session.value.role)
  return true
})

whenExpired(() => void router.push('/login'))
