import { wilsonInterval } from './src/harness/stats.js';
for (const [k,n] of [[5,6],[4,6],[3,6],[1,6],[0,6],[6,6],[2,6]]) console.log(k, n, wilsonInterval(k,n).map(x=>Math.round(x*1e6)/1e6));
