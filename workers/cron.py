"""Periodic jobs, in RQ's cron config format (the one source of truth for both modes).

`flask cron` loads this module into an `rq.cron.CronScheduler` on Redis (like `rq cron workers.cron`);
in embedded mode the ticker in workers/embedded.py loads the same registrations and runs them
in-process. Add a periodic job with one line:

    register(jobs.send_reminders, "default", cron="0 8 * * *")   # cron fields: server local time
    register(jobs.check_sla, "default", interval=300)            # every 5 minutes

Run exactly one `flask cron` process per Redis: each scheduler enqueues every registered job.
"""

from rq.cron import register

from workers import campaign_jobs, clinic_jobs, escalation_jobs, jobs, parking_jobs, ticket_jobs

register(jobs.relay_outbox, "high", interval=60)  # backstop for rows a Redis outage left pending
register(jobs.expire_bindings, "low", interval=600)
register(escalation_jobs.check_sla, "default", interval=60)  # SLA breaches go to a supervisor
register(ticket_jobs.check_sla, "default", interval=300)  # unaccepted tickets past SLA; resolved ones auto-close
register(campaign_jobs.reap_stuck_deliveries, "low", interval=600)  # sends a crashed worker never recorded
register(clinic_jobs.mark_no_shows, "low", interval=600)  # bookings never checked in become no-shows
register(clinic_jobs.top_up_slots, "low", interval=21600)  # slots for the coming 3 weeks from the weekly templates
register(parking_jobs.prune_events, "low", interval=3600)  # ~100 reports/s would otherwise pile up
