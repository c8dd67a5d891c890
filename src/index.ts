import './ssh/shim.js';
import { run } from './main.js';
import { runPost } from './post.js';
import { isPost } from './runner/state.js';

if (isPost()) runPost();
else await run();
