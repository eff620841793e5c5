// Marks the page as having JavaScript, before GOV.UK Frontend's components start (as its page template does).
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
