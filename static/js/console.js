// Console behaviour that must not be inline (CSP): small, dependency-free.
"use strict";
