#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "remorai.settings")
    # Beside a running `make run`: its simulated providers (remorai/devstate.py).
    from remorai.devstate import adopt_devserver_environment

    adopt_devserver_environment(sys.argv)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
