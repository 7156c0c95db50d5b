// Progressive enhancement only: every page of the portal works without
// JavaScript. GOV.UK Frontend's own page template sets the body classes below
// with an inline <script>; the portal's Content-Security-Policy
// (script-src 'self') forbids inline script, so this module does it instead.
//
// A browser runs a module script only if it supports ES modules, which is the
// same test the template's inline script makes ('noModule' in
// HTMLScriptElement.prototype) before adding govuk-frontend-supported. If the
// import below fails, nothing here runs and the page stays un-enhanced.
import { initAll } from "./govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
