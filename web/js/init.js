// Starts GOV.UK Frontend's components (error summary focus, service navigation, details ...).
import { initAll } from '/static/govuk/govuk-frontend.min.js'
initAll()
