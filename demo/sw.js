// sw.js — Field Notes' service worker, on Workbox (served from node_modules by the demo's server): it
// precaches the app shell, the edgetag library and both engine builds, so the app opens and runs with no
// network after the first visit. The models are not here: the library keeps them in IndexedDB.
//
// precache-manifest.js (made by demo/server/serve.mjs) lists each file with the hash of its bytes as its
// revision: a changed file is fetched again on the next visit, an unchanged one never.
importScripts("vendor/workbox/workbox-sw.js", "precache-manifest.js");

workbox.setConfig({ modulePathPrefix: "vendor/workbox/", debug: false });
workbox.core.setCacheNameDetails({ prefix: "field-notes" });

// A new version takes over at once: the shell is small and its files are versioned together.
self.skipWaiting();
workbox.core.clientsClaim();

workbox.precaching.cleanupOutdatedCaches();
workbox.precaching.precacheAndRoute(self.FIELD_NOTES_PRECACHE);

// Any navigation inside the app (a start URL with a query, a bookmark) opens the precached shell.
workbox.routing.registerRoute(new workbox.routing.NavigationRoute(workbox.precaching.createHandlerBoundToURL("index.html")));
