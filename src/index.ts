import './shim.js';
import { runMain } from './main.js';
import { runPost } from './post.js';
import { isPost } from './state.js';

if (isPost()) runPost();
else await runMain();
