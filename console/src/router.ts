import { createRouter, createWebHistory } from 'vue-router'
import Login from './views/Login.vue'

export const router = createRouter({
  history: createWebHistory('/console/'),
  routes: [
    { path: '/', redirect: '/login' },
    { path: '/login', component: Login },
    { path: '/:rest(.*)*', redirect: '/login' },
  ],
})
