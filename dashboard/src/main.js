// The dashboard every tickchain node serves at `/` (issue 17).
// Owns: starting the panels. Never: inline script or style (the page's CSP forbids both), or
// any origin but the node's.
import './style.css';
import * as live from './live.js';
import * as stamp from './stamp.js';
import * as verify from './verify.js';

live.start();
stamp.start();
verify.start();
