# The trail's events of counts are read by their count and batch, never by the other links:
# those lose their index, so a bulk write's events enter fewer indexes. AlterLinkIndex: see
# carnk_mfg.migration_operations.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from carnk_mfg.migration_operations import AlterLinkIndex


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0044_bag_in_stock_by_expiry"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AlterLinkIndex(
            model_name="cellcountevent",
            name="corrects",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="The count of the same batch and day this one replaces.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to="batches.cellcount",
            ),
        ),
        AlterLinkIndex(
            model_name="cellcountevent",
            name="recorded_by",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                related_query_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
