/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The NAA API (`naa serve`) listens on 127.0.0.1:8000 and serves the built console at `/`.
// In development the console runs on Vite's own port and forwards API calls there.
const api = { "/v1": { target: "http://127.0.0.1:8000", changeOrigin: true } };

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
  server: { proxy: api },
  preview: { proxy: api },
  test: { include: ["tests/**/*.test.{ts,tsx}"], environment: "node", testTimeout: 10_000 },
});
