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
<table class="fixed queues"><colgroup><col><col class="c-count"><col class="c-count"><col class="c-count"><col class="c-count"><col class="c-count"><col class="c-spark"><col class="c-act-1"></colgroup>
<thead><tr><th>Queue</th><th class="n">Ready</th><th class="n" title="due, but waiting for a concurrency or rate limit of their actor">Limited</th><th class="n">Delayed</th><th class="n">Running</th><th class="n">Dead</th><th>Backlog, last minutes</th><th></th></tr></thead>
<tbody id="queue-rows"></tbody></table></section>
<section id="jobs"><h2>Jobs of <span id="jobs-queue">-</span></h2>
<nav id="state-tabs" class="bar"></nav>
<div id="jobs-actions" class="bar"></div>
<table class="fixed jobs"><colgroup><col class="c-id"><col class="c-actor"><col class="c-attempt"><col class="c-when"><col><col class="c-act-2"></colgroup>
<thead><tr><th>Id</th><th>Actor</th><th class="n">Attempt</th><th>When</th><th>Error</th><th></th></tr></thead>
<tbody id="job-rows"></tbody></table>
<button id="more" hidden>More</button></section>
<section id="job"><h2>Job</h2>
<form id="lookup-form" class="bar"><input id="lookup-id" placeholder="job id" aria-label="job id" required><input id="lookup-queue" placeholder="queue (optional)" aria-label="queue"><button>Find</button></form>
<div id="job-view"></div></section>
<section id="schedules"><h2>Schedules</h2>
<table class="fixed schedules"><colgroup><col><col class="c-name"><col class="c-name"><col class="c-schedule"><col class="c-when"><col class="c-act-1"></colgroup>
<thead><tr><th>Id</th><th>Queue</th><th>Actor</th><th>Schedule</th><th>Next run</th><th></th></tr></thead>
<tbody id="schedule-rows"></tbody></table></section>
<section id="actors"><h2>Actors</h2><div id="actor-list"></div></section>
</main>
</body>
</html>
`;

/**
 * One column from 1024 px; two from 1600 px (the jobs of a queue beside the job view). Tables have
 * fixed column widths with a minimum width in total, so they fit their section: long names and ids
 * end in an ellipsis (the whole in their title), an error shows two lines (the whole in the job
 * view), action buttons wrap inside their cell rather than leave it.
 */
export const STYLE_CSS = `:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2433; background: #f5f6f8; }
*, *::before, *::after { box-sizing: border-box; }
body { margin: 0; }
header { display: flex; align-items: baseline; gap: 1rem; padding: .6rem 1.2rem; background: #1d2433; color: #fff; }
header #status { flex: 1; min-width: 0; overflow-wrap: anywhere; }
h1 { margin: 0; font-size: 1.3rem; }
h2 { font-size: 1.05rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
main { display: grid; grid-template-columns: minmax(0, 1fr); grid-template-areas: "queues" "jobs" "job" "schedules" "actors"; gap: 1rem; padding: 1rem; align-items: start; }
@media (min-width: 1600px) {
  main { grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); grid-template-areas: "queues queues" "jobs job" "schedules actors"; }
}
#queues { grid-area: queues; } #jobs { grid-area: jobs; } #job { grid-area: job; }
#schedules { grid-area: schedules; } #actors { grid-area: actors; }
section { min-width: 0; background: #fff; border-radius: 6px; padding: .8rem 1rem; box-shadow: 0 1px 2px #0002; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
table.fixed { table-layout: fixed; }
table.queues { min-width: 65.5rem; }
table.jobs { min-width: 62.5rem; }
table.schedules { min-width: 56rem; }
col.c-count { width: 6.5rem; } col.c-spark { width: 14rem; } col.c-act-1 { width: 7rem; } col.c-act-2 { width: 11rem; }
col.c-id { width: 13rem; } col.c-actor, col.c-name { width: 10rem; } col.c-attempt { width: 6rem; } col.c-when { width: 7.5rem; } col.c-schedule { width: 11rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e4e6eb; vertical-align: top; overflow-wrap: anywhere; }
th { overflow-wrap: normal; }
th.n, td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.clip, a.job-link { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
a.job-link { display: block; }
.name-cell { display: flex; align-items: baseline; gap: .4rem; min-width: 0; }
.name-cell a { min-width: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.name-cell .paused { flex: none; }
.buttons, .bar { display: flex; flex-wrap: wrap; gap: .3rem; }
.bar { margin-bottom: .4rem; }
button { font: inherit; padding: .15rem .6rem; border: 1px solid #aab; border-radius: 4px; background: #fff; cursor: pointer; white-space: nowrap; }
button.danger { border-color: #c33; color: #c33; }
nav button[aria-pressed="true"] { background: #1d2433; color: #fff; }
.paused { font-size: .8em; background: #fd3; border-radius: 3px; padding: 0 .3em; }
.queue-link { font-weight: 600; }
.err { color: #b22; }
.err-text { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; line-height: 1.4; }
pre { background: #f0f1f4; padding: .5rem; overflow: auto; max-height: 16rem; font-size: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
details pre { margin: .3rem 0 0; }
textarea { width: 100%; min-height: 5rem; font: 12px monospace; }
svg.spark { width: 160px; max-width: 100%; height: 28px; }
svg.spark polyline { fill: none; stroke: #2a6fdb; stroke-width: 1.5; }
.rate { font-size: .85em; color: #556; margin-left: .4rem; white-space: nowrap; }
.actor { border-top: 1px solid #e4e6eb; padding: .5rem 0; }
.actor h3 { overflow-wrap: anywhere; }
.actor form { display: flex; flex-wrap: wrap; gap: .4rem; }
input { font: inherit; flex: 1 1 10rem; min-width: 0; }
#status.error { color: #f88; }
#job-view { margin-top: .6rem; }
.job-title { display: flex; align-items: baseline; gap: .6rem; }
.job-title h3 { margin: 0; font-size: 1rem; overflow-wrap: anywhere; min-width: 0; flex: 1; }
dl.fields { margin: .5rem 0 0; }
dl.fields > div { display: grid; grid-template-columns: 9rem minmax(0, 1fr); gap: .6rem; padding: .2rem 0; border-bottom: 1px solid #e4e6eb; }
dl.fields dt { color: #556; }
dl.fields dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
dl.fields pre { margin: 0; }
dl.fields ul { margin: 0; padding: 0; list-style: none; }
`;
