import type { zh } from './zh'

export const en: Record<keyof typeof zh, string> = {
  appName: 'Fupin Market',
  console: 'Console',
  login: 'Sign in',
  logout: 'Sign out',
  username: 'Username',
  password: 'Password',
  signIn: 'Sign in',
  switchLang: '中文',
  required: 'Required',
  roleAdmin: 'County office',
  roleStation: 'Village station',
  roleBuyer: 'Unit buyer',
  notBuilt: '',
}
