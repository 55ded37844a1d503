import { createSystem, defaultConfig, defineConfig } from "@chakra-ui/react";

const config = defineConfig({
  theme: {
    tokens: {
      fonts: {
        heading: { value: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
        body: { value: "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" },
      },
    },
  },
  globalCss: {
    "html, body": { bg: "gray.50", color: "gray.900" },
    // keyboard focus stays visible everywhere
    ":focus-visible": { outline: "2px solid", outlineColor: "blue.600", outlineOffset: "2px" },
  },
});

export const system = createSystem(defaultConfig, config);
