from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from zhixing.courts import services
from zhixing.courts.models import User


class Command(BaseCommand):
    help = "Print the API token of a user, creating it on first use."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = User.objects.get(username=options["username"])
        except User.DoesNotExist as error:
            raise CommandError(f"User {options['username']!r} not found.") from error
        if not user.is_active:
            raise CommandError(f"User {user.username!r} is deactivated; reactivate it first.")
        self.stdout.write(services.issue_token(user))
