/** The dashboard page and its styles, served as they are: no bundler, no framework. */

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>repid dashboard</title>
<link rel="stylesheet" href="style.css">
<script type="module" src="app.js"></script>
</head>
<body>
<header><h1>repid</h1><span id="status" role="status"></span></header>
<main>
<section id="queues"><h2>Queues</h2>
<table><thead><tr><th>Queue</th><th>Ready</th><th>Delayed</th><th>Running</th><th>Dead</th><th>Backlog, last minutes</th><th></th></tr></thead>
<tbody id="queue-rows"></tbody></table></section>
<section id="jobs"><h2>Jobs of <span id="jobs-queue">-</span></h2>
<nav id="state-tabs"></nav>
<div id="jobs-actions"></div>
<table><thead><tr><th>Id</th><th>Actor</th><th>Attempt</th><th>When</th><th>Error</th><th></th></tr></thead>
<tbody id="job-rows"></tbody></table>
<button id="more" hidden>More</button></section>
<section id="job"><h2>Job</h2>
<form id="lookup-form"><input id="lookup-id" placeholder="job id" aria-label="job id" required><input id="lookup-queue" placeholder="queue (optional)" aria-label="queue"><button>Find</button></form>
<div id="job-view"></div></section>
<section id="schedules"><h2>Schedules</h2>
<table><thead><tr><th>Id</th><th>Queue</th><th>Actor</th><th>Schedule</th><th>Next run</th><th></th></tr></thead>
<tbody id="schedule-rows"></tbody></table></section>
<section id="actors"><h2>Actors</h2><div id="actor-list"></div></section>
</main>
</body>
</html>
`;

export const STYLE_CSS = `:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2433; background: #f5f6f8; }
header { display: flex; align-items: baseline; gap: 1rem; padding: .6rem 1.2rem; background: #1d2433; color: #fff; }
h1 { margin: 0; font-size: 1.3rem; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(34rem, 1fr)); gap: 1rem; padding: 1rem; }
section { background: #fff; border-radius: 6px; padding: .8rem 1rem; box-shadow: 0 1px 2px #0002; overflow: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e4e6eb; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
button { font: inherit; padding: .15rem .6rem; border: 1px solid #aab; border-radius: 4px; background: #fff; cursor: pointer; }
button.danger { border-color: #c33; color: #c33; }
nav button[aria-pressed="true"] { background: #1d2433; color: #fff; }
.paused { font-size: .8em; background: #fd3; border-radius: 3px; padding: 0 .3em; margin-left: .4em; }
.queue-link { font-weight: 600; }
.err { color: #b22; }
pre { background: #f0f1f4; padding: .5rem; overflow: auto; max-height: 16rem; font-size: 12px; }
textarea { width: 100%; min-height: 5rem; font: 12px monospace; }
svg.spark { width: 160px; height: 28px; }
svg.spark polyline { fill: none; stroke: #2a6fdb; stroke-width: 1.5; }
.rate { font-size: .85em; color: #556; margin-left: .4rem; }
.actor { border-top: 1px solid #e4e6eb; padding: .5rem 0; }
input { font: inherit; margin-right: .4rem; }
#job-view { margin-top: .6rem; }
.job-title { display: flex; align-items: baseline; gap: .6rem; }
.job-title h3 { margin: 0; font-size: 1rem; overflow-wrap: anywhere; min-width: 0; flex: 1; }
dl.fields { margin: .5rem 0 0; }
dl.fields > div { display: grid; grid-template-columns: 9rem minmax(0, 1fr); gap: .6rem; padding: .2rem 0; border-bottom: 1px solid #e4e6eb; }
dl.fields dt { color: #556; }
dl.fields dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
dl.fields pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
dl.fields ul { margin: 0; padding: 0; list-style: none; }
#status.error { color: #f88; }
`;
