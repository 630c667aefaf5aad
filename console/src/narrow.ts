// Whether the screen is a phone's (at most 600 px wide, as style.css's media query): pages show
// fewer table columns there, so that a table fits a 390 px screen without scrolling sideways.
import { ref } from 'vue'

const query = typeof matchMedia !== 'undefined' ? matchMedia('(max-width: 600px)') : null
export const narrow = ref(query?.matches ?? false)
query?.addEventListener('change', (e) => (narrow.value = e.matches))
