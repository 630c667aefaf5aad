import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// Built into internal/console/dist, where the Go binary embeds it (go:embed cannot reach outside
// its package's folder). Served at /console/; hashed file names under /console/assets/.
export default defineConfig({
  base: '/console/',
  plugins: [vue()],
  build: {
    outDir: '../internal/console/dist/site',
    emptyOutDir: true,
    target: 'es2020',
    chunkSizeWarningLimit: 1200,
  },
  test: { environment: 'node', include: ['src/**/*.test.ts'] },
})
