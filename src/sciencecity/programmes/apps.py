from django.utils.translation import gettext_lazy as _

from sciencecity.core.registering import RegisteringAppConfig


class ProgrammesConfig(RegisteringAppConfig):
    default = True
    name = "sciencecity.programmes"
    verbose_name = _("Funding programmes")
    registers = ("permissions", "navigation", "indicator_sources", "inbox")

    def ready(self) -> None:
        super().ready()
        from sciencecity.core.jobs import register
        from sciencecity.programmes.services.assignment import ASSIGNMENT_JOB_KIND, assignment_job_background

        register(ASSIGNMENT_JOB_KIND, assignment_job_background, label=_("Reviewer assignment"))
        from sciencecity.programmes.services import paper_vectors

        paper_vectors.register()
