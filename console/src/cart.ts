// The buyer's cart. It becomes one order, placed with an Idempotency-Key made once per cart, so a
// double click, a retry after a lost answer or a reload never places two orders for one cart.
import { computed, reactive, watch } from 'vue'

export interface CartItem {
  productId: string
  name: string
  unit: string
  priceFen: number
  stock: number
  quantity: number
}

interface Cart {
  key: string
  items: CartItem[]
}

const KEY = 'fupin.cart'

function fresh(): Cart {
  return { key: crypto.randomUUID(), items: [] }
}

function load(): Cart {
  try {
    const c = JSON.parse(sessionStorage.getItem(KEY) ?? '') as Cart
    if (c && typeof c.key === 'string' && Array.isArray(c.items)) return c
  } catch {
    /* none yet */
  }
  return fresh()
}

export const cart = reactive<Cart>(typeof sessionStorage !== 'undefined' ? load() : fresh())
watch(cart, (c) => sessionStorage.setItem(KEY, JSON.stringify(c)), { deep: true })

export const cartTotal = computed(() => cart.items.reduce((s, i) => s + i.priceFen * i.quantity, 0))
export const cartCount = computed(() => cart.items.reduce((s, i) => s + i.quantity, 0))

export function addToCart(item: Omit<CartItem, 'quantity'>, quantity = 1) {
  const have = cart.items.find((i) => i.productId === item.productId)
  if (have) have.quantity = Math.min(have.quantity + quantity, item.stock)
  else cart.items.push({ ...item, quantity: Math.min(quantity, item.stock) })
}

/** emptyCart starts a new cart, with a new key (after its order was placed). */
export function emptyCart() {
  const c = fresh()
  cart.key = c.key
  cart.items = []
}
