import './ssh/shim.js';
import { isPost } from './runner/state.js';

// dist/index.js runs both steps; each evaluates only the modules it needs (post: none of main's AWS
// SDK, ssh2 or Octokit). webpackMode eager keeps them in this one file: ncc would write licenses.txt
// for one chunk only.
if (isPost()) (await import(/* webpackMode: "eager" */ './post.js')).runPost();
else await (await import(/* webpackMode: "eager" */ './main.js')).run();
